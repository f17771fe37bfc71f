/** Tools models can call, and the loop that lets them. */
export { defineTool, type Tool } from './tool.js';
export { ToolRegistry } from './registry.js';
export { loadToolModules } from './modules.js';
export { BUILTIN_TOOLS } from './builtins.js';
export { calculator } from './calculator.js';
export { createDatetimeTool, datetime } from './datetime.js';
export { convertUnitsTool } from './convert-units.js';
export { runToolCall, type ToolOutcome } from './run-tool.js';
export { runToolConversation, type ToolConversationOptions, type ToolConversationResult, type ToolLoopEvent } from './loop.js';
