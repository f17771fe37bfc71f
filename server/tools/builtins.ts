import { calculator } from './calculator.js';
import { convertUnitsTool } from './convert-units.js';
import { datetime } from './datetime.js';
import type { Tool } from './tool.js';

/** The tools every installation offers; operators add theirs with loadToolModules. */
export const BUILTIN_TOOLS: readonly Tool[] = [calculator, datetime, convertUnitsTool];
