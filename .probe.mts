console.log("hello");
import { io } from 'socket.io-client';
import { startArenaProcess } from '/work/main/tests/helpers/process.ts';
const arena = await startArenaProcess();
const s = io(arena.url, { transports: ['websocket'] });
const call = (e: string, p: object) => new Promise<any>((r) => s.emit(e, p, r));
s.on('battle:events', (f: any) => { for (const e of f.events) if (e.t !== 'delta') console.log(JSON.stringify(e)); else process.stdout.write(e.text ?? ''); });
await new Promise((r) => s.on('connect', r));
const st = await call('session:state', {});
console.log('INFO', JSON.stringify(st.info));
for (const [prompt, route] of [['What is 17 * 23 + 4?', 'auto'], ['Write a haiku about the sea', 'auto'], ['What time is it in Tokyo?', 'auto']]) {
  const res = await call('battle:start', { prompt, mode: 'arena', route });
  console.log('\nSTART', JSON.stringify({ ...res.battle, turns: undefined }));
  await new Promise((r) => setTimeout(r, 6000));
}
s.close(); await arena.stop();
