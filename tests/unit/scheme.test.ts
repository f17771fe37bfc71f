import { describe, expect, it } from 'vitest';
import { isHttpsRequest } from '../../src/lib/server/session.js';

const req = (headers: Record<string, string | string[]>, encrypted = false) =>
  ({ headers, socket: encrypted ? { encrypted: true } : {} }) as unknown as Parameters<typeof isHttpsRequest>[0];

describe('isHttpsRequest: the one rule for Secure cookies', () => {
  it('is true on a TLS socket, whatever the headers say', () => {
    expect(isHttpsRequest(req({}, true))).toBe(true);
    expect(isHttpsRequest(req({ 'x-forwarded-proto': 'http' }, true))).toBe(true);
  });
  it('follows the first X-Forwarded-Proto value on plain connections', () => {
    expect(isHttpsRequest(req({ 'x-forwarded-proto': 'https' }))).toBe(true);
    expect(isHttpsRequest(req({ 'x-forwarded-proto': 'HTTPS ' }))).toBe(true);
    expect(isHttpsRequest(req({ 'x-forwarded-proto': 'https, http' }))).toBe(true);
    expect(isHttpsRequest(req({ 'x-forwarded-proto': 'http, https' }))).toBe(false);
    expect(isHttpsRequest(req({ 'x-forwarded-proto': 'http' }))).toBe(false);
    expect(isHttpsRequest(req({ 'x-forwarded-proto': '' }))).toBe(false);
    expect(isHttpsRequest(req({}))).toBe(false);
  });
});
