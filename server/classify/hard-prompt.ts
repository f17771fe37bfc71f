/**
 * "Hard prompts" by FastChat's seven criteria (criteria_v0.1: specificity, domain knowledge,
 * complexity, problem-solving, creativity, technical accuracy, real-world application). FastChat
 * asks an LLM judge; Arena applies explicit, reproducible heuristics instead (docs/ratings.md lists
 * them), and, like FastChat's "hard prompts" board, calls a prompt hard when at least 6 of the 7 hold.
 */

export interface HardPromptCriteria {
  specificity: boolean;
  domain_knowledge: boolean;
  complexity: boolean;
  problem_solving: boolean;
  creativity: boolean;
  technical_accuracy: boolean;
  real_world: boolean;
}

export const HARD_PROMPT_THRESHOLD = 6;

const DOMAIN_TERMS =
  /\b(algorithm|complexity|database|compiler|kernel|protocol|encryption|gradient|regression|neural|theorem|integral|derivative|matrix|eigen\w*|probability|statistic\w*|quantum|molecule|enzyme|genome|protein|diagnos\w*|clinical|legal|statute|contract law|tax\w*|accounting|portfolio|derivatives?|thermodynamic\w*|circuit|voltage|latency|concurren\w*|distributed|microservice\w*|kubernetes|sql|api|typescript|python|rust|java|c\+\+)\b/i;
const PROBLEM_VERBS =
  /\b(solve|prove|derive|debug|fix|optimi[sz]e|calculate|compute|design|architect|plan|compare|evaluate|analy[sz]e|estimate|troubleshoot|implement|refactor|step[- ]by[- ]step|trade-?offs?)\b/i;
const CREATIVE_TERMS = /\b(novel|original|creative|imagine|invent|brainstorm|unconventional|story|poem|metaphor|scenario|what if)\b/i;
const PRECISION_TERMS = /\b(exact(ly)?|precise(ly)?|accurate(ly)?|correct(ly)?|rigorous(ly)?|formal(ly)?|proof|edge cases?|complexity of|big-?o)\b/i;
const REAL_WORLD_TERMS =
  /\b(my|our|we|company|customers?|clients?|business|production|deploy\w*|budget|team|users?|startup|project|manager|patients?|students?|market|revenue)\b/i;
const CONSTRAINT = /(\d|"[^"]+"|`[^`]+`|\b(format|json|table|list|bullet|words?|sentences?|paragraphs?|lines?|steps?)\b)/i;

const CODE = /```|\b(function|class|def|return|import|const|let|var|select|from|where)\b[^\n]{0,120}?[;({]/i;
const MATH = /\d\s*[-+*/^=]\s*\d|\\(frac|int|sum|sqrt)|\b(equation|integral|derivative|proof|theorem)\b/i;

/** Judged on the user's prompts only (all turns), never on the answers. */
export function hardPromptCriteria(prompt: string): HardPromptCriteria {
  const words = prompt.split(/\s+/).filter(Boolean).length;
  const sentences = prompt.split(/[.?!\n]+/).filter((s) => s.trim().length > 0).length;
  return {
    specificity: words >= 12 && CONSTRAINT.test(prompt),
    domain_knowledge: DOMAIN_TERMS.test(prompt),
    complexity: words >= 40 || sentences >= 3,
    problem_solving: PROBLEM_VERBS.test(prompt),
    creativity: CREATIVE_TERMS.test(prompt) || /\b(design|propose|come up with)\b/i.test(prompt),
    technical_accuracy: PRECISION_TERMS.test(prompt) || CODE.test(prompt) || MATH.test(prompt),
    real_world: REAL_WORLD_TERMS.test(prompt),
  };
}

export function isHardPrompt(criteria: HardPromptCriteria): boolean {
  return Object.values(criteria).filter(Boolean).length >= HARD_PROMPT_THRESHOLD;
}
