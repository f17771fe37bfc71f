/**
 * Cue words shared across languages, grouped by what they signal. Character n-grams cannot tell
 * the classifier that "combien", "ngapi" and "多少" ask the same thing; a group feature can, so
 * what is learnt in one language carries to the others. The groups only add features: the
 * classifier learns how much each one (alone, with a number, with another group) weighs.
 * Words are matched in the normalised text (lower case, Latin accents removed, digits as 0):
 * Latin and Cyrillic words at a word start, CJK entries anywhere.
 */

const GROUPS: Record<string, string[]> = {
  /** Asking for an amount, a count or a result. */
  quantity: [
    'how many', 'how much', 'how long', 'how old', 'how far', 'what is', 'whats', 'what percent', 'result',
    'cuanto', 'cuanta', 'cuantos', 'cuantas', 'cuánto', 'q hora', 'que hora', 'cuál es', 'cual es',
    'combien', 'quel age', 'quelle heure', 'ca fait', 'ça fait',
    'quanto', 'quantos', 'quantas', 'qto', 'que horas', 'quantas horas',
    'wie viel', 'wieviel', 'wie viele', 'wie lange', 'wie alt', 'wie spät', 'wie spat', 'was ist', 'wie hoch ist',
    'сколько', 'скок', 'какой номер', 'который час',
    'ngapi', 'mingapi', 'vingapi', 'kiasi gani', 'je ni', 'ni ngapi',
    '多少', '几', '幾', '多久', '多长', '百分之', '是不是', 'いくら', '何日', '何時', '何歳', '何曜日', '何パーセント', '何%', '何キロ', '何グラム', '何ml', '何度', '何円', '何週', '何人',
  ],
  /** Asking to compute, convert or count. */
  compute: [
    'calculate', 'compute', 'convert', 'calc', 'total', 'sum', 'average', 'mean', 'median', 'divide', 'split', 'times', 'plus', 'minus', 'squared', 'factorial', 'prime', 'root', 'sqrt', 'percent', 'rate',
    'calcula', 'convierte', 'convertir', 'suma', 'promedio', 'media', 'mediana', 'dividir', 'divide', 'entre', 'por', 'raiz', 'elevado', 'primo', 'porcentaje', 'tasa',
    'calcule', 'calculer', 'somme', 'moyenne', 'mediane', 'diviser', 'partager', 'fois', 'racine', 'puissance', 'premier', 'pourcentage', 'taux',
    'calcular', 'converter', 'soma', 'dividido', 'dividir', 'vezes', 'raiz', 'porcentagem', 'taxa',
    'berechne', 'rechne', 'umrechnen', 'summe', 'durchschnitt', 'median', 'geteilt', 'teilen', 'mal', 'wurzel', 'hoch', 'primzahl', 'prozent', 'rate', 'quote',
    'посчитай', 'вычисли', 'сложи', 'среднее', 'медиана', 'раздели', 'разделить', 'умножить', 'корень', 'степени', 'простое', 'процент', 'доля', 'заболеваемость',
    'hesabu', 'kokotoa', 'jumla', 'wastani', 'gawanya', 'mara', 'kipeuo', 'kipeo', 'tasa', 'asilimia', 'kiwango',
    'area', 'perimeter', 'hypotenuse', 'radius', 'decimal', 'hipotenusa', 'radio', 'decimal', 'aire', 'rayon', 'decimale', 'raio', 'flächeninhalt', 'flacheninhalt', 'radius', 'dezimal', 'площадь', 'гипотенуза', 'радиус', 'дробь', 'eneo', 'hipotenusi', 'desimali',
    '面积', '斜边', '半径', '小数', '面積', '小数',
    '计算', '算', '换算', '总', '一共', '平均', '中位数', '除以', '乘', '加', '平方根', '根号', '次方', '质数', '率', '合计', '割り勘', '平均', '乗', '平方根', '計算',
  ],
  /** Units, currencies and the symbols that go with amounts. */
  unit: [
    'km', 'kilometre', 'kilometer', 'mile', 'miles', 'mph', 'kg', 'kilo', 'gram', 'gramm', 'pound', 'lb', 'lbs', 'ounce', 'oz', 'cup', 'cups', 'teaspoon', 'tablespoon', 'litre', 'liter', 'gallon', 'feet', 'foot', 'inch', 'celsius', 'fahrenheit', 'degrees', 'stone', 'meter', 'metre', 'cm', 'ml', 'gb', 'gib', 'mib', 'tb',
    'libra', 'libras', 'gramos', 'taza', 'tazas', 'cuchara', 'litro', 'litros', 'millas', 'grados', 'pies', 'centigrados', 'centimetros',
    'livre', 'livres', 'grammes', 'tasse', 'cuillere', 'cuilleres', 'pieds', 'pouces', 'degres',
    'gramas', 'xicara', 'colher', 'colheres', 'milha', 'graus', 'pes', 'polegadas',
    'pfund', 'unze', 'tasse', 'esslöffel', 'essloffel', 'meile', 'grad', 'fuß', 'fuss',
    'фунт', 'унция', 'грамм', 'миль', 'мили', 'фаренгейт', 'цельси', 'градус', 'км', 'кг', 'дюйм', 'фут',
    'ratili', 'gramu', 'vikombe', 'kikombe', 'maili', 'kilomita', 'nyuzi', 'futi', 'inchi', 'paundi', 'lita',
    '磅', '盎司', '公斤', '克', '英里', '公里', '华氏', '摄氏', '英尺', '英寸', '斤', '千米', 'ポンド', 'グラム', 'マイル', 'キロ', '華氏', '摂氏', '大さじ',
    'dollar', 'dollars', 'euro', 'euros', 'usd', 'eur', 'gbp', 'yen', 'peso', 'pesos', 'reais', 'real', 'franc', 'francs', 'franken', 'naira', 'ksh', 'tsh', 'shilingi', 'rmb', 'yuan', 'baht', 'cad', 'dolares', 'dolar', 'dlls', 'lucas', 'sterling', 'złoty', 'zloty', 'тенге', 'рубл', 'доллар', 'евро', '美元', '人民币', '欧元', '日元', '円', 'ドル', 'ユーロ', 'escudos', 'cfa',
  ],
  /** Dates, calendars and the clock. */
  calendar: [
    'day of the week', 'weekday', 'what day', 'which day', 'what date', 'days until', 'days between', 'days left', 'weeks', 'sleeps', 'next year', 'this year', 'born', 'how old',
    'dia de la semana', 'que dia', 'cae', 'faltan', 'dias', 'semanas', 'año que viene', 'este año', 'naci', 'fecha',
    'quel jour', 'jour de la semaine', 'tombe', 'jours', 'semaines', 'annee prochaine', 'cette annee', 'ne le', 'quelle date',
    'dia da semana', 'que dia', 'cai', 'faltam', 'dias', 'semanas', 'ano que vem', 'esse ano', 'nasci', 'que data',
    'wochentag', 'welcher tag', 'fällt', 'fallt', 'tage', 'wochen', 'nächstes jahr', 'nachstes jahr', 'dieses jahr', 'geboren', 'datum', 'kalenderwoche',
    'день недели', 'какой день', 'выпадет', 'выпадает', 'дней', 'недель', 'следующем году', 'этом году', 'родился', 'какого числа', 'числа',
    'siku gani', 'siku ngapi', 'zimebaki', 'wiki ngapi', 'mwaka ujao', 'mwaka huu', 'nilizaliwa', 'tarehe',
    'christmas eve', 'fourth of july', 'independence day', 'memorial day', 'labor day', 'valentines', 'ramadan', 'eid', 'diwali', 'reyes', 'nochebuena', 'toussaint', 'reveillon', 'finados', 'tiradentes', 'advent', 'einheit', 'сочельник', 'день победы', 'idd', 'mashujaa', 'madaraka', '清明', '元日', '大晦日', 'お盆', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'weekend', 'christmas', 'xmas', 'easter', 'thanksgiving', 'new year', 'halloween',
    'lunes', 'martes', 'miercoles', 'jueves', 'viernes', 'sabado', 'domingo', 'fin de semana', 'navidad', 'semana santa', 'pascua', 'año nuevo',
    'lundi', 'mardi', 'mercredi', 'jeudi', 'vendredi', 'samedi', 'dimanche', 'week-end', 'noel', 'paques', 'nouvel an',
    'segunda', 'terca', 'quarta', 'quinta', 'sexta', 'sabado', 'fim de semana', 'natal', 'pascoa', 'carnaval', 'ano novo',
    'montag', 'dienstag', 'mittwoch', 'donnerstag', 'freitag', 'samstag', 'sonntag', 'wochenende', 'weihnachten', 'heiligabend', 'ostern', 'silvester', 'neujahr',
    'понедельник', 'вторник', 'среду', 'четверг', 'пятниц', 'суббот', 'воскресенье', 'выходные', 'рождество', 'пасха', 'новый год', 'масленица',
    'jumatatu', 'jumanne', 'jumatano', 'alhamisi', 'ijumaa', 'jumamosi', 'jumapili', 'wikendi', 'weekend', 'krismasi', 'pasaka', 'mwaka mpya',
    '周末', '圣诞', '春节', '国庆', '中秋', '端午', '元旦', '週末', 'クリスマス', '正月', 'ゴールデンウィーク',
    '星期几', '星期', '周几', '礼拜', '还有几天', '还有多少天', '几天', '几号', '哪天', '明年', '今年', '出生', '第几周', '曜日', 'あと何日', '何曜日', '生まれ',
  ],
  /** Weather words: with a "now" cue (today, tomorrow, right now) they ask for live data; with a writing cue they are a story or chat. */
  weather: [
    'weather', 'forecast', 'rain', 'raining', 'snow', 'snowing', 'umbrella', 'temperature', 'sunny', 'storm', 'thunderstorm', 'windy', 'hot out', 'cold out',
    'clima', 'llover', 'llueve', 'lluvia', 'nevar', 'nieva', 'paraguas', 'temperatura', 'calor', 'frio', 'tormenta',
    'meteo', 'pleut', 'pleuvoir', 'pluie', 'neige', 'neiger', 'parapluie', 'temperature', 'chaleur', 'orage',
    'tempo', 'chover', 'chove', 'chuva', 'guarda-chuva', 'guarda chuva', 'temperatura', 'calor', 'friozinho', 'frio',
    'wetter', 'regnet', 'regen', 'schnee', 'schneit', 'regenschirm', 'temperatur', 'gewitter', 'sonne', 'heiß', 'heiss',
    'погода', 'погоду', 'дождь', 'дождик', 'снег', 'зонт', 'температура', 'жара', 'мороз', 'гроза', 'метель', 'тепло',
    'hali ya hewa', 'mvua', 'kunyesha', 'kutanyesha', 'inanyesha', 'itanyesha', 'mwavuli', 'joto', 'baridi', 'jua kali',
    '天气', '下雨', '下雪', '雨伞', '气温', '温度', '出太阳', '天気', '雨', '雪', '傘', '気温', '暑い', '寒い', '晴れ',
  ],
  /** Asking for an opinion or a judgement (is it worth it, is it normal, should I): advice, even about money. */
  opinion: [
    'worth it', 'worth', 'is it normal', 'is that normal', 'good idea', 'bad idea', 'enough', 'fair', 'too much', 'dumb', 'smart move', 'should we', 'or should', 'is it bad', 'is it ok', 'reasonable', 'realistic', 'do you think',
    'vale la pena', 'conviene', 'buena idea', 'mala idea', 'es normal', 'deberia', 'que hago', 'me conviene', 'es mejor',
    'vale a pena', 'vale mais', 'e normal', 'devo', 'é melhor', 'e melhor', 'loucura', 'compensa',
    'ca vaut le coup', 'vaut le coup', 'vaut-il mieux', 'vaut mieux', 'bonne idee', 'mauvaise idee', 'raisonnable', 'cest normal', 'je devrais', 'je fais quoi',
    'lohnt sich', 'lohnt es sich', 'sinnvoll', 'realistisch', 'soll ich', 'sollen wir', 'naiv', 'zu wenig', 'zu viel', 'normal',
    'стоит ли', 'есть ли смысл', 'нормально ли', 'как думаешь', 'лучше', 'дать или нет', 'выгодно',
    'ni bora', 'ni busara', 'ni vizuri', 'nifanye nini', 'nichukue', 'au nisubiri', 'inafaa',
    '划算', '靠谱', '要不要', '值得', '合适', '好不好', '借不借', '有必要', 'どっち', 'べき', 'やめたほうがいい', 'きつい', '遅くない', 'どうしよう',
  ],
  /** The present moment and live information. */
  now: [
    'now', 'right now', 'rn', 'today', 'tonight', 'tomorrow', 'currently', 'current', 'weather', 'forecast', 'exchange rate', 'remind me', 'timer', 'alarm',
    'ahora', 'ahorita', 'hoy', 'mañana', 'manana', 'clima', 'tiempo hace', 'llover', 'cambio de hoy', 'alarma', 'recuerdame',
    'maintenant', 'aujourdhui', 'demain', 'meteo', 'il fait', 'taux du jour', 'rappelle-moi', 'rappelle moi', 'reveil',
    'agora', 'agr', 'hoje', 'hj', 'amanha', 'previsao', 'chover', 'cotacao', 'me lembra', 'despertador',
    'jetzt', 'gerade', 'grad', 'heute', 'morgen', 'wetter', 'regnet', 'aktuellen kurs', 'erinner', 'wecker',
    'сейчас', 'щас', 'сегодня', 'завтра', 'погода', 'дождь', 'по курсу', 'напомни', 'будильник',
    'sasa', 'sasa hivi', 'saa hii', 'leo', 'kesho', 'hali ya hewa', 'mvua', 'nikumbushe', 'kengele',
    '现在', '今天', '明天', '天气', '下雨', '汇率', '提醒', '闹钟', '今', '今日', '明日', '天気', '起こして',
  ],
  /** Asking for writing, explanation, translation, advice or code: the duel's home ground. */
  arena: [
    'explain', 'why', 'write', 'rewrite', 'reword', 'summarise', 'summarize', 'summary', 'translate', 'paraphrase', 'proofread', 'draft', 'describe', 'correct', 'fix', 'shorten', 'tips', 'advice', 'should i', 'ideas', 'recommend', 'poem', 'story', 'essay', 'email', 'letter', 'caption', 'joke', 'code', 'function', 'python', 'sql', 'excel', 'regex', 'difference between', 'what does', 'meaning', 'how do i', 'how to', 'tell me about', 'who', 'history',
    'explica', 'explicame', 'explicale', 'por que', 'porque', 'escribe', 'escribeme', 'redacta', 'reescribe', 'resume', 'resumen', 'traduce', 'traduzca', 'corrige', 'acorta', 'consejos', 'ideas', 'recomiendame', 'poema', 'chiste', 'correo', 'como se dice', 'que es', 'diferencia', 'quien',
    'explique', 'pourquoi', 'ecris', 'redige', 'reformule', 'resume', 'traduis', 'corrige', 'raccourcis', 'conseils', 'idees', 'conseille', 'poeme', 'blague', 'mail', 'comment on dit', 'c est quoi', 'cest quoi', 'difference', 'qui',
    'explica', 'por que', 'escreve', 'escreva', 'reescreve', 'resuma', 'resumo', 'traduz', 'traduza', 'corrige', 'dicas', 'ideias', 'indica', 'poema', 'piada', 'como se diz', 'o que e', 'diferenca', 'quem',
    'erklär', 'erklar', 'erkläre', 'erklare', 'warum', 'schreib', 'formulier', 'fasse', 'zusammen', 'übersetze', 'ubersetze', 'übersetz', 'korrigier', 'kürze', 'kurze', 'tipps', 'ideen', 'empfiehl', 'gedicht', 'witz', 'was heißt', 'was heisst', 'was bedeutet', 'unterschied', 'wer',
    'объясни', 'почему', 'напиши', 'перепиши', 'перефразируй', 'опиши', 'кратко', 'переведи', 'исправь', 'сократи', 'советы', 'посоветуй', 'идеи', 'стих', 'анекдот', 'письмо', 'как сказать', 'что такое', 'что значит', 'разница', 'кто',
    'eleza', 'mweleze', 'kwa nini', 'andika', 'niandikie', 'fupisha', 'tafsiri', 'sahihisha', 'vidokezo', 'ushauri', 'mawazo', 'nipendekezee', 'shairi', 'kichekesho', 'barua', 'tunasemaje', 'ni nini', 'tofauti', 'nani',
    '解释', '为什么', '写', '改写', '改', '总结', '概括', '翻译', '纠正', '建议', '推荐', '诗', '笑话', '邮件', '怎么说', '什么是', '是什么', '区别', '谁', '説明', 'なぜ', '書いて', '英訳', '要約', '直して', 'コツ', '何て言う', 'って何', '違い',
  ],
};

const LATIN_OR_CYRILLIC = /^[\p{Script=Latin}\p{Script=Cyrillic}\s'-]+$/u;

interface Matcher {
  group: string;
  test(text: string): boolean;
}

/** As in features.ts: accents off Latin letters only (Cyrillic й stays й). */
const stripLatinAccents = (w: string): string => w.normalize('NFD').replace(/([a-z])\p{M}+/gu, '$1').normalize('NFC');

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const MATCHERS: Matcher[] = Object.entries(GROUPS).map(([group, words]) => {
  const wordy = words.filter((w) => LATIN_OR_CYRILLIC.test(w)).map(stripLatinAccents);
  const anywhere = words.filter((w) => !LATIN_OR_CYRILLIC.test(w));
  // Word start only: "mal" must not fire inside "normal", "por" inside "importante".
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${wordy.map(escape).join('|')})(?![\\p{L}])`, 'u');
  return { group, test: (text) => pattern.test(text) || anywhere.some((w) => text.includes(w)) };
});

/** A digit, an arithmetic sign between digits, a %, a currency sign. */
const NUMBER = /0/;
const OPERATOR = /0\s*[-+*x×÷/^]\s*0|0\s*%|[$€£¥]\s*0|0\s*[$€£¥]/;

/** Group features of a normalised text: each group alone, with a number, and each pair of groups. */
export function lexiconFeatures(text: string): string[] {
  const groups = MATCHERS.filter((m) => m.test(text)).map((m) => m.group);
  const features = groups.map((g) => `g:${g}`);
  const hasNumber = NUMBER.test(text);
  if (hasNumber) features.push('g:number', ...groups.map((g) => `g:${g}+number`));
  if (OPERATOR.test(text)) features.push('g:operator');
  for (let i = 0; i < groups.length; i++) for (let j = i + 1; j < groups.length; j++) features.push(`g:${groups[i]}+${groups[j]}`);
  if (groups.length === 0) features.push(hasNumber ? 'g:none+number' : 'g:none');
  return features;
}
