import { AMOUNT, CURRENCY, DATE_LIKE, HOLIDAYS, MONEY, MONTHS, WEEKDAYS, NUM, UNIT, UNIT_AFTER_NUMBER } from './patterns.js';
import type { Abstention, LayerVerdict } from './types.js';

/**
 * Deterministic routing rules: each spots one kind of prompt a tool answers better than a model
 * (exact arithmetic, the current time, date arithmetic, unit or currency conversion) and names
 * itself in the reason. They only ever say `tools`; when none matches the layer abstains.
 */

interface Rule {
  name: string;
  confidence: number;
  /** The text that triggered the rule, or undefined. */
  match(prompt: string): string | undefined;
}

const regex = (source: string): RegExp => new RegExp(source, 'i');

function patternRule(name: string, confidence: number, sources: string[]): Rule {
  const patterns = sources.map(regex);
  return {
    name,
    confidence,
    match: (prompt) => {
      for (const pattern of patterns) {
        const found = pattern.exec(prompt);
        if (found) return found[0].trim();
      }
      return undefined;
    },
  };
}

/** "what is", "calculate"… in front of an expression. */
const COMPUTE_CUE = /^(?:(?:what\s+is|what'?s|whats|how\s+much\s+is|calculate|compute|evaluate|solve|work\s+out|tell\s+me|find|quick\s+math:?)\s+)*/i;
const MATH_NAMES = /\b(?:sqrt|abs|round|floor|ceil|min|max|log|ln|sin|cos|tan|pi)\b/gi;
const FUNCTION_CALL = /^(?:sqrt|abs|round|floor|ceil|min|max|log|ln|sin|cos|tan)\s*\(/i;
const EXPRESSION_CHARACTERS = /^[-+*/^%×÷x().,\d\s]+$/i;
const BINARY_OPERATOR = /[\d)]\s*(?:\*\*|[-+*/^%×÷x])\s*[-(\d]/i;
const DATE_OR_FRACTION_ONLY = /^\d{1,4}[-/]\d{1,2}(?:[-/]\d{1,4})?$/;

/** The whole prompt, once a "what is"-style cue is gone, is an arithmetic expression: "what's 17 x 23?", "144/12". */
const bareExpression: Rule = {
  name: 'bare-expression',
  confidence: 0.97,
  match: (prompt) => {
    const expression = prompt.trim().replace(COMPUTE_CUE, '').replace(/[\s?.!=]+$/, '');
    const symbolsOnly = expression.replace(MATH_NAMES, '1');
    const isExpression = EXPRESSION_CHARACTERS.test(symbolsOnly) && (BINARY_OPERATOR.test(symbolsOnly) || FUNCTION_CALL.test(expression));
    return isExpression && !DATE_OR_FRACTION_ONLY.test(expression) ? expression : undefined;
  },
};

const RULES: Rule[] = [
  bareExpression,
  patternRule('arithmetic-words', 0.95, [
    String.raw`${NUM}\s+(?:is\s+)?(?:plus|minus|times|multiplied\s+by|divided\s+by|mod(?:ulo)?|to\s+the\s+power\s+of|raised\s+to(?:\s+the\s+power\s+of)?)\s+-?${NUM}`,
    String.raw`${NUM}\s+(?:squared|cubed|factorial|to\s+the\s+\d+(?:st|nd|rd|th)\s+power)\b`,
    String.raw`\b(?:multiply|divide|add|subtract|sum)\s+${AMOUNT}\s+(?:by|and|from|to|into)\s+${AMOUNT}`,
    String.raw`\b(?:(?:square|cube)\s+root|sqrt|factorial|natural\s+log(?:arithm)?|log(?:arithm)?(?:\s+base\s+\d+)?|ln)\s+(?:of\s+)?${NUM}`,
    String.raw`\b(?:sum|average|mean|median|product|total|standard\s+deviation|variance)\s+of\s+(?:the\s+numbers\s+)?${AMOUNT}\s*,\s*${AMOUNT}`,
    String.raw`\b(?:half|double|triple|twice|(?:a|one|two)\s+thirds?|(?:a|one|three)\s+quarters?)\s+(?:of\s+)?${AMOUNT}`,
    String.raw`\b\d+\/\d+\s+of\s+${AMOUNT}`,
    String.raw`\bis\s+${NUM}\s+(?:divisible\s+by\s+${NUM}|a\s+prime|prime|a\s+perfect\s+square)\b`,
  ]),
  patternRule('geometry', 0.93, [
    String.raw`\b(?:area|perimeter|circumference|volume|hypotenuse|diagonal|surface\s+area)\s+of\s+(?:a|an|the)\s+[\w\s-]{0,30}?\b(?:with|of|by|\d).{0,40}?\d`,
  ]),
  patternRule('percentage', 0.95, [
    String.raw`${NUM}\s*(?:%|percent|per\s*cent)\s+(?:\w+\s+){0,2}?(?:of|off|on)\s+(?:(?:a|an|the|my)\s+)?${AMOUNT}`,
    String.raw`\bwhat\s+(?:percent(?:age)?|%)\s+(?:of\s+${NUM}|is\s+${NUM})`,
    String.raw`${NUM}\s+is\s+what\s+(?:percent(?:age)?|%)`,
    String.raw`\b(?:increase|decrease|reduce|raise|discount|mark\s+up)\s+${AMOUNT}\s+by\s+${NUM}\s*(?:%|percent)`,
    String.raw`(?:percent(?:age)?|%).{0,60}\bfrom\s+${AMOUNT}\s+to\s+${AMOUNT}|\bfrom\s+${AMOUNT}\s+to\s+${AMOUNT}.{0,60}(?:percent(?:age)?|%)`,
    String.raw`${NUM}\s+out\s+of\s+${NUM}.{0,60}(?:percent(?:age)?|%|grade|score)|(?:percent(?:age)?|%).{0,60}${NUM}\s+out\s+of\s+${NUM}`,
  ]),
  patternRule('bill-split', 0.93, [
    String.raw`${MONEY}.{0,60}?\b(?:between|among|by|for|with)\s+${NUM}\s+(?:people|persons|friends|ways|of\s+us|guests|roommates)\b`,
    String.raw`${NUM}\s+(?:people|persons|friends|of\s+us|guests|roommates)\s+(?:split|share)\b.{0,40}?${MONEY}`,
  ]),
  patternRule('current-time', 0.97, [
    String.raw`\bwhat\s+time\s+is\s+it\b|\bwhat\s+hour\s+is\s+it\b`,
    String.raw`\b(?:what(?:'?s|\s+is)|tell\s+me|give\s+me)\s+the\s+(?:current\s+|local\s+|exact\s+)?time\b(?!\s+(?:complexity|period|zone|frame|signature|limit|difference|of\s+(?:day|year)))`,
    String.raw`\b(?:current|local)\s+time\s+(?:in|at|for|now|right|please)\b|\bcurrent\s+(?:utc\s+|gmt\s+)?time\b|\btime\s+(?:right\s+)?now\s+in\b`,
    String.raw`\b(?:today'?s|todays)\s+date\b|\bwhat(?:'?s|\s+is)\s+the\s+(?:current\s+)?date\b(?=\s*(?:[?.!]|$|and\s+time|today|now|right|in\b))`,
    String.raw`\bwhat\s+(?:day|month|year|weekday)(?:\s+of\s+the\s+week)?\s+is\s+(?:it|today)\b|\b(?:which|what)\s+day\s+of\s+the\s+week\s+is\s+it\b|\bwhat\s+(?:year|month)\s+are\s+we\s+in\b`,
  ]),
  patternRule('date-arithmetic', 0.95, [
    String.raw`\bhow\s+many\s+(?:more\s+)?(?:days|weeks|months|years|hours|minutes|sleeps|nights|business\s+days|working\s+days|weekdays)\s+(?:are\s+)?(?:there\s+)?(?:left\s+)?(?:is\s+it\s+)?(?:until|till|til|before|since|between|from)\s+${DATE_LIKE}`,
    String.raw`\b(?:days|weeks|hours|sleeps)\s+(?:left\s+)?(?:until|till|til)\s+${DATE_LIKE}`,
    String.raw`\bhow\s+(?:long|much\s+time)\s+(?:is\s+)?(?:left\s+)?(?:is\s+it\s+|do\s+i\s+have\s+)?(?:until|till|til|before)\s+${DATE_LIKE}`,
    String.raw`\b(?:what|which)\s+(?:date|day(?:\s+of\s+the\s+week)?|weekday)\s+(?:is|was|will\s+(?:it\s+)?be|would\s+(?:it\s+)?be|falls?|fell|does)\b.{0,60}?(?:\d|\bago\b|\bfrom\s+${DATE_LIKE})`,
    String.raw`\bwhat\s+(?:will\s+the\s+date\s+be|was\s+the\s+date)\b.{0,40}?\d`,
    // A holiday's weekday in a given year needs the calendar even without a digit: "what day does christmas eve fall on this year", "is new years eve on a friday this year".
    String.raw`\b(?:what|which)\s+(?:day(?:\s+of\s+the\s+week)?|weekday)\s+(?:is|does|will|did|was)\s+(?:${HOLIDAYS})\b.{0,30}?\b(?:this|next|last)\s+(?:year|yr)\b`,
    // "is the 25th of december 2026 a sunday", "was march 3 1990 a monday"
    String.raw`\b(?:is|was|will)\s+(?:the\s+)?(?:\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:${MONTHS})|(?:${MONTHS})\s+\d{1,2}(?:st|nd|rd|th)?)\b,?\s*(?:\d{4}\s+)?(?:be\s+)?(?:a|on\s+a)\s+${WEEKDAYS}\b`,
    String.raw`\b(?:is|does|will|did)\s+(?:${HOLIDAYS})\s+(?:fall\s+)?(?:on\s+)?(?:a\s+)?(?:${WEEKDAYS}|weekend|weekday)\b.{0,30}?\b(?:this|next|last)\s+(?:year|yr)\b`,
    String.raw`\b${NUM}\s+(?:days|weeks|months|years)\s+(?:from|after|before)\s+${DATE_LIKE}`,
    String.raw`\bnumber\s+of\s+(?:days|weeks|months)\s+(?:from|between|until|since)\s+${DATE_LIKE}`,
    String.raw`\bhow\s+(?:old|many\s+days\s+old)\b.{0,40}\bborn\b.{0,40}\d|\bborn\b.{0,40}\d.{0,40}\bhow\s+old\b`,
    String.raw`\bwhat\s+time\s+will\s+it\s+be\b`,
  ]),
  patternRule('unit-conversion', 0.96, [
    String.raw`\bconvert(?:ing)?\s+(?:${NUM}\s*)?${UNIT_AFTER_NUMBER}.{0,40}?\b(?:to|into|in)\s+${UNIT_AFTER_NUMBER}`,
    String.raw`${NUM}\s*${UNIT_AFTER_NUMBER}(?:\s+${NUM}\s*(?:in|${UNIT_AFTER_NUMBER}))?\s+(?:to|in|into|as|=|equals?|is\s+how\s+many|is\s+what\s+in|in\s+terms\s+of)\s+${UNIT_AFTER_NUMBER}`,
    String.raw`\bhow\s+many\s+${UNIT}\s+(?:are\s+|is\s+)?(?:there\s+)?(?:in|per|make(?:\s+up)?|to|equals?)\s+(?:(?:a|an|one|half\s+a|a\s+(?:quarter|half)(?:\s+of\s+a)?|quarter|half|${NUM})\s*)?${UNIT}`,
    String.raw`\bhow\s+many\s+${UNIT}\s+(?:is|are)\s+${NUM}\s*${UNIT_AFTER_NUMBER}`,
  ]),
  patternRule('currency-conversion', 0.9, [
    String.raw`(?:${AMOUNT}\s*)?\b${CURRENCY}\s+(?:sterling\s+)?(?:to|in|into|vs\.?)\s+${CURRENCY}`,
    String.raw`[$£€¥]\s?${NUM}\s+(?:to|in|into)\s+${CURRENCY}`,
    String.raw`\bexchange\s+rate\s+(?:from|between|for|of)\s+${CURRENCY}`,
  ]),
  patternRule('live-data', 0.9, [
    String.raw`\b(?:weather|forecast|temperature|price|stock|score|traffic|exchange\s+rate|headlines?|air\s+quality)\b.{0,40}?\b(?:right\s+now|now|today|tonight|tomorrow|currently|at\s+the\s+moment|this\s+week)\b`,
    String.raw`\b(?:current|latest|live|today'?s)\s+(?:weather|forecast|temperature|price|stock|score|traffic|exchange\s+rate|top\s+news|news|headlines?)\b`,
  ]),
  patternRule('action', 0.9, [
    String.raw`^(?!\s*(?:how|why|what|when|can\s+you\s+explain)\b).*\b(?:set|start)\s+(?:an?\s+|my\s+)?(?:${NUM}[-\s]\w+\s+)?(?:\w+\s+)?(?:timer|alarm|reminder|countdown)\b`,
    String.raw`\bremind\s+me\s+(?:(?:to|at|tomorrow|tonight|on\s+\w+day|every)\b|in\s+\d)`,
  ]),
];

/**
 * A prompt that opens by asking for writing or an explanation is for the arena even when it holds
 * a sum ("explain 1+1=2 to a child", "shorten this: revenue grew 14% to $2.3 billion"): the rules
 * leave it to the classifier.
 */
const ARENA_REQUEST = /^\s*(?:please\s+|pls\s+|can\s+you\s+|could\s+you\s+)?(?:explain|why|prove|write|rewrite|reword|shorten|summari[sz]e|translate|paraphrase|proofread|draft|describe|correct|fix|make\s+this|turn\s+this|how\s+(?:do|does|can|should|would)\b|what\s+does)\b/i;

/** The first rule that matches decides `tools`; no match abstains. */
export function applyRules(prompt: string): LayerVerdict {
  if (ARENA_REQUEST.test(prompt)) return NO_RULE;
  for (const rule of RULES) {
    const matched = rule.match(prompt);
    if (matched !== undefined)
      return { route: 'tools', layer: 'rules', reason: `rule ${rule.name} matched "${clip(matched)}"`, confidence: rule.confidence };
  }
  return NO_RULE;
}

const NO_RULE: Abstention = { abstain: true, layer: 'rules', reason: 'no rule matched' };

function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
