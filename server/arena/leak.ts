/**
 * Identity-leak detection: an answer in which the model says who it is or who made it unblinds the
 * battle, so its vote is stored but not rated.
 *
 * Only self-identification counts: a first-person claim ("I am Qwen", "我是通义千问", "私はGeminiです",
 * "Меня зовут Claude", "fui entrenado por Google") naming one of the model's own words. Mentions
 * ("Google's search", "the Greek letter phi", "a mistral wind", "llamas") and claims to be another
 * model (FastChat's cleaning drops those as noise, not leaks) are not. The verdict is taken once on
 * the whole answer (text and reasoning), never on stream chunks, so chunk edges cannot make or
 * break a word.
 */
export { leakWords } from './leak-words.js';

/** Letters that make a word go on (CJK scripts have no spaces: a CJK neighbour is no boundary). */
const CJK = String.raw`[\p{sc=Han}\p{sc=Hira}\p{sc=Kana}\p{sc=Hang}]`;
const WORD_CHAR = String.raw`(?!${CJK})[\p{L}\p{N}_]`;
const LETTER = String.raw`(?!${CJK})\p{L}`;
/** Start of a word in any script (\b is ASCII-only in JavaScript). */
const START = String.raw`(?<![\p{L}\p{N}_])`;

/** Words a self-description may put between "I am" and the name: "I'm a large language model trained by the team at …". */
const FILLERS = {
  en: `a an the just actually really simply basically indeed proudly officially originally called named known
    as version variant iteration edition instance of based built on part one member model models language
    large small open open-source open-weight ai artificial intelligence assistant chatbot bot system family
    series line from by at trained created developed made designed engineered released published produced
    programmed fine-tuned finetuned tuned powered team researchers engineers folks people company lab labs
    research group developers helpful friendly multilingual conversational generative llm latest newest
    virtual digital text-based instruction-tuned chat proud product compact lightweight little`,
  es: `un una el la los las modelo modelos de del lenguaje grande gran asistente ia inteligencia artificial
    desarrollado desarrollada creado creada entrenado entrenada diseñado diseñada construido construida
    lanzado lanzada por equipo empresa laboratorio llamado llamada basado basada en versión variante familia
    parte chatbot sistema conversacional abierto virtual pequeño pequeña ligero compacto`,
  fr: `un une le la les de des du modèle modèles langage grand assistant assistante ia intelligence
    artificielle développé développée créé créée entraîné entraînée conçu conçue construit construite publié
    publiée par équipe entreprise société laboratoire appelé appelée nommé nommée basé basée sur version
    variante famille chatbot système conversationnel virtuel chez petit petite léger compact open source
    libre`,
  de: `ein eine einer eines einem der die das dem den des großes grosses große großen sprachmodell
    sprachmodells ki ki-assistent ki-modell assistent assistentin modell von vom bei namens entwickelt
    trainiert erstellt gebaut entworfen veröffentlicht team unternehmen firma labor basierend auf version
    variante familie chatbot system teil offenes künstliche künstlichen intelligenz virtueller kleines
    kleiner kleine kompaktes aus open-source open-source-modell open-source-sprachmodell`,
  pt: `um uma o a os as modelo modelos de do da dos das linguagem grande assistente ia inteligência artificial
    desenvolvido desenvolvida criado criada treinado treinada projetado projetada construído construída
    lançado lançada por pela pelo equipe equipa empresa laboratório chamado chamada baseado baseada em no na
    versão variante família parte chatbot sistema conversacional aberto virtual pequeno pequena leve
    compacto código fonte`,
  ru: `— – - большая большой языковая языковой модель модели ии ai ассистент помощник чат-бот бот искусственный
    интеллект созданная созданный создан создана разработанная разработанный разработан разработана
    обученная обученный обучен обучена компанией командой компании команды компания команда от в во на
    основе основанная основанный версия вариант семейства частью часть под названием называемый по имени
    исследователями инженерами лаборатории лабораторией был была являюсь называюсь виртуальный`,
};

/** Up to `n` filler words (separated by spaces or commas; French elisions "d'", "l'" need no space). */
function fill(lang: keyof typeof FILLERS, n: number): string {
  const words = FILLERS[lang].split(/\s+/).filter(Boolean).map(escape);
  const elision = lang === 'fr' ? String.raw`|[dl]['’]` : '';
  return String.raw`(?:(?:${words.join('|')})(?![\p{L}\p{N}])[\s,]*${elision}){0,${n}}`;
}

/** The self-identification patterns of each language; `@NAME@` stands for the model's own words. */
function templates(): string[] {
  const en = fill('en', 10);
  const es = fill('es', 10);
  const fr = fill('fr', 10);
  const de = fill('de', 10);
  const pt = fill('pt', 10);
  const ru = fill('ru', 10);
  // "Qwen2.5-7B", "Llama 3.2", "Mixtral 8x7B", "DeepSeek R1": a version after the name is the same claim.
  const tail = String.raw`[\w.:\-]*(?:\s+(?:\d|[a-z]\d)[\w.:\-]*)?`;
  const jaModelWords = String.raw`(?:AI|ＡＩ|人工知能|モデル|大規模言語モデル|言語モデル|アシスタント|チャットボット)`;
  const zhModelWords = String.raw`(?:的)?(?:AI|人工智能)?(?:助手|模型|大模型|语言模型|大语言模型)?`;
  /**
   * "I am a Google Cloud certified architect" (a cover letter the model drafts) is not a claim;
   * "I'm a Gemma model" is. Right after an indefinite article the name counts only when a word
   * for a model follows within two words.
   */
  const notAfterArticle = (articles: string) => String.raw`(?<!${START}(?:${articles})\s+)`;
  const modelNoun = (nouns: string) => String.raw`${tail}(?:[\s\-]+[\w.:]+){0,2}?[\s\-]+(?:${nouns})(?![\p{L}])`;
  const enNouns = 'models?|assistant|ai|llm|chatbot|bot|language|system|family|series|variant|version|based|derived|powered|product|instance|fine-tune|finetune';
  const esPtNouns = 'modelo|asistente|assistente|ia|chatbot|sistema|familia|família|versión|versão|variante|basado|baseado';
  const frNouns = 'modèle|assistant|ia|chatbot|système|famille|version|variante|basé';
  const deNouns = 'modell|sprachmodell|ki|assistent|chatbot|system|familie|version|variante|basiert|basierend';
  const enSelf = String.raw`${START}i\s*(?:am|'m|’m|was|have\s+been|'ve\s+been|’ve\s+been|belong\s+to|come\s+from|originate\s+from|run\s+on)\s+${en}`;
  const esSelf = String.raw`${START}(?:yo\s+)?(?<!(?:no|nunca)\s+)(?:soy|fui|me\s+llamo|me\s+llaman|estoy\s+basad[oa]\s+en|pertenezco\s+a|provengo\s+de|vengo\s+de)\s+${es}`;
  const ptSelf = String.raw`${START}(?:eu\s+)?(?<!(?:não|nunca)\s+)(?:sou|fui|me\s+chamo|chamo-me|pertenço\s+[àa]|venho\s+d[aoe]|sou\s+baseado\s+em)\s+${pt}`;
  const frSelf = String.raw`${START}(?:je\s+suis|j['’]ai\s+été|j['’]étais|je\s+m['’]appelle|on\s+m['’]appelle|je\s+me\s+nomme|je\s+viens\s+de|je\s+fais\s+partie\s+de|je\s+suis\s+issue?\s+de)\s*${fr}`;
  const deSelf = String.raw`${START}ich\s+(?:bin|war|wurde|heiße|heisse|nenne\s+mich|gehöre\s+zu|stamme\s+von|komme\s+von|basiere\s+auf)\s+${de}`;
  return [
    // English
    String.raw`${enSelf}${notAfterArticle('a|an')}@NAME@`,
    String.raw`${enSelf}@NAME@${modelNoun(enNouns)}`,
    String.raw`${START}my\s+(?:name|creators?|makers?|developers?|team|company|parent\s+company|origins?|trainers?|authors?|builders?|designers?)(?:'s|’s|\s+is|\s+are|\s+was|\s+were|\s+at|\s+from|\s+is\s+called|,)?\s+${en}@NAME@`,
    String.raw`${START}(?:call\s+me|i\s+go\s+by)\s+@NAME@`,
    String.raw`${START}you(?:'re|’re|\s+are)\s+(?:talking|chatting|speaking)\s+(?:to|with)\s+${en}@NAME@`,
    String.raw`(?:^|[.!?\n]|${START}(?:hi|hello|hey|greetings)[,!.]?)\s*(?:this\s+is\s+)?@NAME@${tail}\s*(?:here|speaking|at\s+your\s+service)\s*(?:[.!,:;)]|$)`,
    String.raw`${START}as\s+${en}@NAME@${tail}(?:\s+(?:model|assistant|ai|llm))?\s*,?\s*(?:i|i'm|i’m|my)(?![\p{L}])`,
    String.raw`${START}(?:this|the|my)\s+(?:response|answer|reply|text|message|output)\s+(?:was|is|has\s+been)\s+(?:generated|written|produced|created|brought\s+to\s+you)\s+by\s+${en}@NAME@`,
    // Spanish and Portuguese (the subject pronoun is usually dropped; "no soy" / "não sou" deny)
    String.raw`${esSelf}${notAfterArticle('un|una')}@NAME@`,
    String.raw`${esSelf}@NAME@${modelNoun(esPtNouns)}`,
    String.raw`${START}mis?\s+(?:nombre|creador|creadora|creadores|desarrollador|desarrolladores|equipo|empresa)\s+(?:es|son|fue|fueron|en|de)?\s*${es}@NAME@`,
    String.raw`${ptSelf}${notAfterArticle('um|uma')}@NAME@`,
    String.raw`${ptSelf}@NAME@${modelNoun(esPtNouns)}`,
    String.raw`${START}(?:meu|meus)\s+(?:nome|criador|criadores|desenvolvedor|desenvolvedores)\s+(?:é|era|são|na|no|da|do)?\s*${pt}@NAME@`,
    String.raw`${START}como\s+${es}@NAME@${tail}\s*,\s*(?:yo|no\s+puedo|no\s+tengo|puedo|debo|mi|me|eu|não\s+posso|posso|devo|meu)(?![\p{L}])`,
    String.raw`${START}(?:te|le|les|os)\s+habla\s+${es}@NAME@`,
    String.raw`(?:^|[.!?¡¿\n]|${START}(?:hola|oi|olá|buenas))\s*[!,.]?\s*aqu[ií]\s+(?:es\s+|está\s+|habla\s+|é\s+|fala\s+)?(?:[oa]\s+|el\s+|la\s+)?@NAME@${tail}\s*[,.!]`,
    String.raw`${START}como\s+(?:um\s+|uma\s+|un\s+|una\s+)?(?:modelo|assistente|asistente|ia|ai)\s+${es}${pt}@NAME@`,
    // French
    String.raw`${frSelf}${notAfterArticle('un|une')}@NAME@`,
    String.raw`${frSelf}@NAME@${modelNoun(frNouns)}`,
    String.raw`${START}(?:mon|mes)\s+(?:nom|créateur|créateurs|développeur|développeurs|équipe)\s+(?:est|était|sont|chez|de)?\s*${fr}@NAME@`,
    String.raw`${START}en\s+tant\s+que\s+${fr}@NAME@${tail}\s*,\s*(?:je|j['’])`,
    String.raw`(?:^|[.!?\n]|${START}(?:bonjour|salut|coucou))\s*[!,.]?\s*ici\s+@NAME@${tail}\s*[,.!]`,
    String.raw`${START}c['’]est\s+@NAME@${tail}\s+qui\s+(?:vous|te)\s+(?:parle|répond)`,
    // German
    String.raw`${deSelf}${notAfterArticle('ein|eine|einen|einer|einem')}@NAME@@GEN@`,
    String.raw`${deSelf}@NAME@@GEN@${modelNoun(deNouns)}`,
    String.raw`${START}(?:mein|meine)\s+(?:name|entwickler|hersteller|schöpfer|team)\s+(?:ist|lautet|war|sind|bei|von)?\s*${de}@NAME@@GEN@`,
    String.raw`${START}als\s+${de}@NAME@@GEN@${tail}\s*,?\s*(?:kann|darf|habe|bin|muss|möchte)\s+ich(?![\p{L}])`,
    String.raw`(?:^|[.!?\n]|${START}(?:hallo|hi|guten\s+tag|servus))\s*[!,.]?\s*hier\s+(?:ist|spricht)\s+@NAME@@GEN@${tail}\s*[,.!]`,
    // Russian
    // "Я в Google …", "я на Google Диске": a place, not a claim.
    String.raw`${START}я\s*(?:[—–\-]\s*)?(?!(?:в|во|на|по)\s)${ru}@NAME@`,
    String.raw`${START}меня\s+(?:зовут|называют|создала?|создали|разработала?|разработали|обучила?|обучили)\s+${ru}@NAME@`,
    String.raw`${START}(?:мо[её]|мои)\s+(?:имя|название|создатели|разработчики|создатель|разработчик)\s*(?:[—–\-]|это|из|в)?\s*${ru}@NAME@`,
    String.raw`${START}как\s+${ru}@NAME@${tail}\s*,\s*я(?![\p{L}])`,
    String.raw`${START}с\s+вами\s+(?:говорит|на\s+связи)\s+${ru}@NAME@`,
    String.raw`(?:^|[.!?\n]|${START}(?:привет|здравствуйте))\s*[!,.]?\s*@NAME@${tail}\s+на\s+связи`,
    // Chinese: 我是/我叫/我的名字是 … within the clause, not negated
    // 就/也 ("我就是…") add nothing; 是 before 说/指/在/想/用 is "I mean / I was at / I used", not "I am".
    String.raw`(?:我|本人|本模型)(?:就|也|正|便)?(?:是(?![说指在想用从把])|叫|名叫|名为|来自|属于|基于|由|被|的(?:名字|开发者|创造者|创建者|研发者|团队|开发团队|公司)(?:是|叫|为)?)[^。！？!?\n，,；;：:不非没]{0,20}?@NAME@`,
    String.raw`我(?:就|也|正|便)?(?:是(?![说指在想用从把])|为)[^。！？!?\n不非没]{0,30}?(?:由|被)\s*@NAME@`,
    String.raw`作为[^。！？\n，,]{0,10}?@NAME@${tail}${zhModelWords}\s*[，,]\s*我`,
    String.raw`(?:^|[。！？!?\n，,]|您好|你好|嗨)\s*这里是\s*@NAME@`,
    String.raw`我[^。！？!?\n不非没]{0,40}?(?:名字叫|名叫|叫做|名为)\s*@NAME@`,
    // Japanese: 私は … @NAME@ です / によって開発 …; a sentence that opens with "@NAME@ です"; "@NAME@ として、私は"
    String.raw`(?:私|わたし|僕|ぼく|わたくし)(?:は|の名前は|の開発元は|を開発したのは|を作ったのは)[^。！？!?\n、]{0,25}?@NAME@${tail}\s*(?:${jaModelWords}\s*)?(?:です|でございます|と申します|といいます|と言います|という|だ|によって|により|が開発|が作|が訓練|が構築|が提供|社|製|の${jaModelWords})`,
    String.raw`(?:^|[。！？!?\n]|こんにちは[！!、。]?|はじめまして[！!、。]?)\s*@NAME@${tail}\s*(?:です|と申します)`,
    String.raw`@NAME@${tail}\s*として[、,]\s*(?:私|わたし|僕)`,
    String.raw`(?:私|わたし|僕|わたくし)[、,]\s*@NAME@${tail}\s*(?:です|と申します|が(?:お答え|お手伝い|回答|ご案内|担当))`,
    String.raw`(?:^|[。！？!?\n]|こんにちは[！!、。]?)\s*@NAME@${tail}\s*が(?:お答え|お手伝い|回答|ご案内|担当)`,
  ];
}

function escape(word: string): string {
  return word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The model's own words, whole words in Latin and Cyrillic text; group 1 is a German genitive "s". */
function namePattern(words: readonly string[]): RegExp | null {
  const escaped = [...new Set(words.map((w) => w.trim().toLowerCase()).filter(Boolean))]
    .sort((a, b) => b.length - a.length)
    .map((w) => escape(w).replace(/\s+/g, String.raw`\s+`));
  return escaped.length ? new RegExp(String.raw`(?<!${WORD_CHAR})(?:${escaped.join('|')})(s?)(?!${LETTER})`, 'gu') : null;
}

/** A template split at the name: what must come right before it, and right after it. */
interface Cue {
  before: RegExp;
  after: RegExp;
  /** German: "Coheres Modelle" names Cohere. Elsewhere a trailing "s" is another word ("llamas"). */
  genitive: boolean;
}

/**
 * Compiled once per process and shared by every model: only the small name pattern is per model.
 * (One pattern per model with the names inlined took ~50–400 ms to compile.)
 */
const CUES: Cue[] = templates().map((template) => {
  const [before, after] = template.split('@NAME@') as [string, string];
  const genitive = after.startsWith('@GEN@');
  return { before: new RegExp(`(?:${before})$`, 'u'), after: new RegExp(`^(?:${genitive ? after.slice(5) : after})`, 'u'), genitive };
});
const BEFORE_CHARS = 160;
const AFTER_CHARS = 80;

const namePatterns = new Map<string, RegExp | null>();

function namesOf(words: readonly string[]): RegExp | null {
  const key = words.join('\u0000');
  let pattern = namePatterns.get(key);
  if (pattern === undefined) {
    pattern = namePattern(words);
    if (namePatterns.size >= 256) namePatterns.delete(namePatterns.keys().next().value!);
    namePatterns.set(key, pattern);
  }
  return pattern;
}

/** Whether the answer (text and reasoning, whole) claims to be, or to be made by, one of `words`. */
export function claimsIdentity(words: readonly string[], answer: string): boolean {
  const names = namesOf(words);
  if (!names) return false;
  // Lower-cased once here rather than case-insensitive patterns: \p{L} under /i is slow to compile.
  const text = answer.toLowerCase();
  for (const match of text.matchAll(names)) {
    const start = match.index;
    const end = start + match[0].length;
    const before = text.slice(Math.max(0, start - BEFORE_CHARS), start);
    const after = text.slice(end, end + AFTER_CHARS);
    const genitive = match[1] === 's';
    if (CUES.some((cue) => (!genitive || cue.genitive) && cue.after.test(after) && cue.before.test(before))) return true;
  }
  return false;
}
