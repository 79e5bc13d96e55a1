"""Cue words and phrases, by the kind of request they signal, in several languages.

Matching is on whole words: text is lower-cased, ASCII punctuation becomes a space,
apostrophes are dropped (``what's`` -> ``whats``), and a phrase matches only as a run of
whole words, so "cover" is not found in "discover" and "prove" is not found in
"improve". Chinese and Japanese have no spaces between words; their cues are matched as
substrings (one alternation, longest cue first), which is safe because each cue is at
least two characters long.

Everything is compiled into plain dicts and sets at import; ``match_cues`` does set
intersections and a few substring checks.
"""

from __future__ import annotations

import re
from typing import Final

# Cue kinds. Intents say what is asked; the others modify how hard it is.
CHAT: Final = "chat"  # greetings, thanks, acknowledgements
FACT: Final = "fact"  # wh-questions, definitions
LOOKUP: Final = "lookup"  # a simple question about pasted material
HOWTO: Final = "howto"  # "how do I ..."
TRANSLATE: Final = "translate"
CONVERT: Final = "convert"
EXPLAIN: Final = "explain"
WRITE: Final = "write"
REWRITE: Final = "rewrite"
SUMMARIZE: Final = "summarize"
EXTRACT: Final = "extract"
CODE_WRITE: Final = "code_write"
DEBUG: Final = "debug"  # strong: needs no other evidence
DEBUG_WEAK: Final = "debug_weak"  # counts only with code or errors in sight
WHY: Final = "why"  # a "why" question: debugging when code is in sight, else explaining
REVIEW: Final = "review"
DESIGN: Final = "design"
PLAN: Final = "plan"
ANALYZE: Final = "analyze"
WORD_MATH: Final = "word_math"  # grade-school word-problem vocabulary
CALCULUS: Final = "calculus"
COMPETITION: Final = "competition"
COUNTING: Final = "counting"  # "how many" + a mathematical object
PROOF: Final = "proof"
PROOF_WEAK: Final = "proof_weak"  # the noun "proof": counts only with mathematics in sight
OLYMPIAD: Final = "olympiad"
DERIVE: Final = "derive"
RESEARCH: Final = "research"
PUZZLE: Final = "puzzle"
HARD_CODE: Final = "hard_code"
JUSTIFY: Final = "justify"
# modifiers
ALGO: Final = "algo"  # algorithmic topic: raises code writing to complex
CODE_WORD: Final = "code_word"  # code objects: make weak debug cues count
SCALE: Final = "scale"  # system-scale requirements: raise design towards deep
CONSTRAINT: Final = "constraint"  # explicit requirement words
PRIME_WORD: Final = "prime_word"  # primality and factorisation
MATH_OBJECT: Final = "math_object"  # integers, ways, paths... (for "how many")
WORD_OP: Final = "word_op"  # "times", "divided by": arithmetic written in words
FOLLOW: Final = "follow"  # follow-up leads and back-references
SIMPLE_ASK: Final = "simple_ask"  # "in one sentence", "yes or no": keep it short
STOP: Final = "stop"  # filler that does not count as content in chat detection

_CUES: dict[str, tuple[str, ...]] = {
    CHAT: (
        "hi", "hello", "hey", "heya", "hiya", "yo", "howdy", "greetings", "good morning", "good afternoon",
        "good evening", "good night", "gm", "bye", "goodbye", "cya", "see you", "talk tomorrow", "thanks",
        "thank you", "thank", "thx", "ty", "tysm", "cheers", "appreciated", "much appreciated", "ok", "okay",
        "k", "kk", "cool", "nice", "great", "awesome", "perfect", "lol", "haha", "hahaha", "lmao", "wow",
        "yep", "yeah", "yup", "nope", "sure", "got it", "sounds good", "no worries", "never mind",
        "nevermind", "nvm", "how are you", "how r u", "whats up", "sup", "ping", "test", "testing",
        "are you there", "cute", "good job", "great job", "well done", "bravo", "congrats", "all good",
        "np", "makes sense", "that worked", "it worked", "works now", "fixed it", "brilliant", "amazing",
        "love it", "excellent", "lovely",
        # es / fr / de / ru / pt
        "hola", "gracias", "muchas gracias", "adios", "adiós", "buenos dias", "buenos días", "buenas noches",
        "que tal", "qué tal", "bonjour", "salut", "merci", "merci beaucoup", "bonsoir", "au revoir",
        "hallo", "danke", "danke schön", "danke schon", "vielen dank", "tschüss", "guten morgen",
        "guten tag", "guten abend", "gute nacht", "servus", "moin", "привет", "спасибо", "здравствуйте",
        "пока", "благодарю", "отлично", "olá", "ola", "oi", "obrigado", "obrigada", "tudo bem", "tchau",
        "bom dia", "boa noite",
    ),
    STOP: (
        # English function words and the usual small talk around an acknowledgement
        "a", "an", "the", "i", "im", "ive", "ill", "me", "my", "myself", "you", "your", "youre", "we", "us",
        "our", "it", "its", "this", "that", "thats", "these", "those", "is", "was", "are", "be", "been",
        "am", "do", "did", "does", "so", "much", "very", "really", "again", "all", "now", "just", "exactly",
        "what", "whats", "for", "and", "or", "but", "to", "of", "on", "in", "at", "by", "with", "from", "up",
        "out", "lot", "too", "as", "well", "anyway", "here", "there", "right", "one", "lets", "let",
        "tomorrow", "today", "tonight", "later", "then", "way", "btw", "some", "if", "yes", "no", "not",
        "hope", "how", "hows", "going", "doing", "s", "t", "will", "would", "can", "could", "have", "has",
        "had", "got", "get", "need", "needed", "helped", "help", "worked", "works", "work", "fixed", "try",
        "tried", "again", "everything", "more", "thing", "things", "finally", "now", "again", "new", "again",
        "too", "also", "guys", "mate", "dude", "buddy", "everyone", "man", "again", "after", "all", "done",
        # the same in es / fr / de / ru / pt
        "el", "la", "los", "las", "es", "eso", "esto", "todo", "por", "hoy", "de", "que", "y", "muy", "le",
        "les", "et", "est", "des", "ça", "das", "hat", "für", "die", "der", "und", "ist", "sehr", "всё",
        "все", "это", "работает", "очень", "и", "pela", "pelo", "ajuda", "o", "a", "e", "muito", "tudo",
    ),
    FACT: (
        "what", "whats", "what is", "what are", "who", "whos", "who is", "who was", "who wrote",
        "who painted", "who invented", "who discovered", "who designed", "who won", "when", "when did",
        "when was", "where", "wheres", "which", "define", "definition", "meaning", "what does", "stand for",
        "stands for", "synonym", "antonym", "plural", "past tense", "spell", "capital", "how many",
        "how much", "how tall", "how old", "how far", "how big", "how long", "how heavy", "is it true",
        "what year", "what time", "what color", "what colour",
        # es / fr / de / ru / pt
        "qué", "que es", "qué es", "cuál", "cual", "quién", "quien", "cuándo", "cuando", "dónde", "donde",
        "cómo se dice", "como se dice", "cuántos", "cuantos", "cuántas", "cuantas", "quel", "quelle", "qui",
        "quand", "où", "combien", "quest ce que", "capitale", "was ist", "was sind", "was bedeutet", "wer",
        "wann", "wo", "wie viele", "wie viel", "hauptstadt", "bedeutet", "что", "что такое", "кто", "когда",
        "где", "сколько", "столица", "какой", "какая", "qual", "quem", "quando", "onde", "o que é", "o que e",
    ),
    LOOKUP: (
        "what language", "which language", "which programming language", "what programming language",
        "name of the", "whats the name", "what is the name", "how many columns", "how many rows",
        "how many lines", "which exception", "what exception", "first line", "last line", "yes or no",
        "which file", "what file", "what type is", "does this article mention", "does this text mention",
        "does it mention", "mention",
    ),
    HOWTO: (
        "how do i", "how can i", "how to", "how should i", "how would i", "how do you", "cómo puedo",
        "como puedo", "comment faire", "wie kann ich", "как мне", "как сделать", "como faço", "como faco",
    ),
    TRANSLATE: (
        "translate", "translation", "how do you say", "how to say", "in spanish", "in french", "in german",
        "in japanese", "in chinese", "in italian", "in portuguese", "in russian", "into spanish",
        "into french", "into german", "into english", "in english", "traduce", "traduis", "traduire",
        "übersetze", "ubersetze", "переведи", "traduza", "traduzir",
    ),
    CONVERT: ("convert", "conversion", "in pounds", "in kg", "to km", "in km", "to miles", "to celsius",
              "to fahrenheit", "in fahrenheit", "in celsius", "in miles", "in meters", "in feet"),
    EXPLAIN: (
        "explain", "explanation", "describe", "how does", "how do", "difference", "differences",
        "different from", "differ", "compare", "comparison", "versus", "vs", "pros and cons",
        "trade offs", "tradeoffs", "trade off", "advantages", "disadvantages", "should i use",
        "which is better", "in simple terms", "elaborate", "overview", "walk me through", "teach me",
        "help me understand", "what causes", "causes of", "how come", "whats the best way",
        "what is the best way", "best way to", "what would happen", "what happens if", "what happens when",
        "how would", "what if",
        # es / fr / de / ru / pt
        "explica", "explique", "explícame", "explicame", "diferencia", "diferencias", "compara",
        "expliquez", "expliquer", "différence", "différences", "comparez", "erkläre", "erklare", "erklären",
        "erklär", "unterschied", "unterschiede", "vergleiche", "объясни", "объясните", "расскажи",
        "разница", "отличается", "отличие", "сравни", "diferença", "diferenças",
    ),
    WHY: ("why", "why does", "why is", "why do", "why are", "por qué", "por que", "pourquoi", "warum",
          "почему", "porque"),
    WRITE: (
        "write", "draft", "compose", "essay", "poem", "haiku", "limerick", "cover letter", "caption",
        "tweet", "slogan", "name ideas", "ideas for", "brainstorm", "lyrics", "give me 5", "give me 10",
        "escribe", "escriba", "écris", "ecris", "écrivez", "schreibe", "schreib", "напиши", "escreva",
        "escrever", "redacta", "rédige", "verfasse",
    ),
    REWRITE: (
        "rewrite", "rephrase", "paraphrase", "grammar", "proofread", "more formal", "less formal",
        "friendlier", "make it", "make this", "shorter", "longer", "improve", "polish", "reword",
        "sound more", "more polite", "more upbeat", "tone", "corrige el texto", "reformule",
        "umformulieren", "перепиши",
    ),
    SUMMARIZE: (
        "summarize", "summarise", "summary", "summarizing", "summarising", "tldr", "tl dr", "key points",
        "main points", "gist", "sum up", "recap", "action items", "takeaways", "key takeaways",
        "what happened", "in one line", "what is this text about", "resume", "resumen", "resumir",
        "resuma", "resumo", "résume", "résumez", "résumer", "zusammen", "zusammenfassung",
        "zusammenfassen", "fasse", "кратко", "резюмируй", "перескажи", "суммируй",
    ),
    EXTRACT: ("extract", "list all", "pull out", "list every", "find every", "parse"),
    CODE_WRITE: (
        "implement", "implementation", "write a function", "write a python", "write a javascript",
        "write a script", "write a program", "write a class", "write a method", "write a query",
        "write a sql", "write a regex", "write a bash", "write a dockerfile", "write an interval",
        "write a thread safe", "write a unit test", "write unit tests", "write tests", "function that",
        "function to", "script that", "script to", "program that", "method that", "query to", "regex that",
        "regex to", "one liner", "dockerfile", "snippet", "code for", "code that", "type hints",
        "docstring", "list comprehension", "bash", "regular expression", "sql query", "in python",
        "in javascript", "in java", "in go", "in rust", "in c", "in typescript", "python function",
        "java method", "class for",
        "serialize", "deserialize", "async await",
        # es / fr / de / ru / pt
        "función", "funcion", "código", "codigo", "implementa", "fonction", "implémente", "implémentez",
        "funktion", "implementiere", "implementieren", "programm", "функцию", "функция", "код",
        "программу", "реализуй", "função", "funcao", "implemente",
    ),
    DEBUG: (
        "find the bug", "find the bugs", "fix the bug", "debug", "debugging", "whats wrong", "what is wrong",
        "whats going on", "doesnt work", "does not work", "not working", "never terminates",
        "infinite loop", "memory leak", "deadlock", "deadlocks", "segfault", "re renders", "rerenders",
        "re render", "keep restarting", "keeps restarting", "find the race condition", "race condition in",
        "why does it crash", "find the error", "ci is red", "tests fail", "test fails", "failing test",
        "failing tests",
        # es / fr / de / ru / pt
        "encuentra el error", "trouve le bug", "trouve l erreur", "finde den fehler", "найди ошибку",
        "ошибку", "состояние гонки", "encontre o erro", "encuentra el bug",
    ),
    DEBUG_WEAK: (
        "fix", "error", "errors", "wrong", "fails", "failing", "slow", "optimize", "optimise", "crash",
        "crashes", "exception", "broken", "issue", "problem", "bug", "bugs", "takes", "make it fast",
        "make it faster", "too slow", "stack trace", "traceback", "restarting", "fehler", "erreur", "ошибка",
        "ошибки", "erro",
        "corrige", "corrija", "исправь", "behebe", "корректно",
    ),
    REVIEW: (
        "review", "refactor", "edge cases", "code review", "is it safe", "thread safe", "keeping the",
        "preserving", "keeping the output", "clean up this", "audit this code",
    ),
    DESIGN: (
        "design a", "design an", "design the", "design it", "design this", "design for",
        "how should i design",
        "architect", "architecture", "system design", "migration plan", "sharding key", "schema for",
        "database schema", "diseña", "diseñe", "disena", "conçois", "concevez", "concevoir", "entwirf",
        "entwerfe", "entwerfen", "architektur", "спроектируй", "спроектируйте", "разработай", "архитектуру",
        "projete", "projetar",
    ),
    PLAN: (
        "plan", "itinerary", "schedule", "meal plan", "prioritise", "prioritize", "roadmap", "timeline",
        "allocate", "budget",
    ),
    ANALYZE: (
        "analyse", "analyze", "analysis", "root cause", "conflict", "conflicts", "conflicting",
        "inconsistency", "inconsistencies", "anomaly", "anomalies", "trend", "trends", "timeline",
        "risk", "risks", "pattern", "evidence", "be careful", "flag", "identify", "investigate", "assess",
        "evaluate", "implications", "what went wrong", "failing", "since when",
    ),
    WORD_MATH: (
        "cost", "costs", "price", "each", "per", "total", "buy", "change", "km h", "mph", "hours", "minutes",
        "speed", "old", "age", "ages", "years", "people", "twice", "half", "discount", "recipe", "perimeter",
        "area", "volume", "average", "the mean", "mean of", "median", "percent", "sum of", "how much",
        "how long",
        "how far", "what time", "fills", "tank", "train", "leaves", "catch up", "quotient", "remainder",
        "uhr", "km", "vezes", "fois", "mal", "cuánto", "quanto", "combien", "wie weit",
    ),
    CALCULUS: ("derivative", "differentiate", "integrate", "integral", "limit of", "solve", "equation",
               "equations", "simplify", "expand"),
    COMPETITION: (
        "in how many ways", "how many ways", "number of ways", "probability", "lattice path", "lattice paths",
        "remainder when", "trailing zeros", "geometric sequence", "arithmetic sequence", "consecutive terms",
        "find all real", "smallest positive integer", "largest positive integer", "largest integer",
        "smallest integer", "divisible by", "sum of all", "expected value", "combinatorics", "last digits",
        "last two digits", "last three digits", "amc", "without replacement",
        "cuántas formas", "cuantas formas", "de cuántas maneras", "probabilidad", "combien de façons",
        "probabilité", "wie viele möglichkeiten", "wahrscheinlichkeit", "сколькими способами", "вероятность",
        "quantos caminhos", "probabilidade", "de quantas maneiras",
    ),
    PROOF: (
        "prove", "show that", "demonstrate that", "prove that", "with proof", "irrational",
        "infinitely many", "for every integer", "for all integers", "for every positive integer",
        "if and only if", "uncountable", "uniformly continuous", "by induction", "is abelian",
        "demuestra", "demuestre", "demostrar", "demostración", "montrez", "montre que", "montrer que",
        "démontrez", "démontre", "démontrer", "prouvez", "prouver", "beweise", "beweisen", "zeige dass",
        "zeigen sie", "докажите", "докажи", "доказать", "доказательство", "иррационально", "demonstre",
        "mostre que", "unendlich viele", "irrationnel", "irrational ist",
    ),
    PROOF_WEAK: ("proof", "proofs", "theorem", "lemma", "corollary", "qed"),
    OLYMPIAD: (
        "find all functions", "find all positive integers", "find all integers", "find all integer",
        "find all pairs", "find all triples", "determine all", "perfect square", "olympiad", "imo", "aime",
        "usamo", "putnam", "functional equation", "circumcircle", "incircle", "orthocenter",
        "generalise", "generalize", "prove your formula", "prove none", "none are missing",
    ),
    DERIVE: ("derive", "derivation", "from first principles"),
    RESEARCH: (
        "open problem", "conjecture", "riemann hypothesis", "twin prime", "twin primes", "research plan",
        "research proposal", "provably", "circuit complexity", "complexity classes", "p vs np",
        "expressivity", "what is proven", "unsolved", "fallen short", "state of the art", "causally",
    ),
    PUZZLE: (
        "sudoku", "zebra puzzle", "who owns the fish", "weighings", "counterfeit", "knights and knaves",
        "true false and random", "non attacking", "queens", "logic puzzle", "einstein", "riddle",
    ),
    HARD_CODE: (
        "lock free", "linearizable", "linearizability", "raft", "paxos", "consensus", "wait free",
        "byzantine", "formally verify", "aba problem", "leader election", "log replication",
    ),
    JUSTIFY: ("justify", "justify each step", "rigorous", "rigorously", "step by step", "walk through every",
              "every case", "all cases", "verify the number"),
    ALGO: (
        "dynamic programming", "dp", "dijkstra", "bellman ford", "shortest path", "longest increasing",
        "palindromic", "lru", "lru cache", "a trie", "trie with", "interval tree", "segment tree",
        "binary tree",
        "red black", "edit distance", "levenshtein", "topological", "cycle", "cycles", "knapsack",
        "backtracking", "memoization", "heap", "binary heap", "priority queue", "graph", "directed graph",
        "weighted graph", "bfs", "dfs", "minimum spanning", "union find", "thread safe", "blocking queue",
        "concurrent", "concurrency", "mutex", "race condition", "larger than memory", "streams",
        "streaming", "p95", "p99", "percentile", "autocomplete", "top k", "log n", "double loop",
        "inversions", "bitmask", "sliding window", "two pointers", "coins", "unique paths", "suffix array",
        "algorithmus", "алгоритм", "algoritmo", "algorithme", "最短路径", "动态规划",
    ),
    CODE_WORD: (
        "code", "function", "method", "class", "script", "program", "query", "component", "module",
        "pod", "pods", "container", "tests", "test suite", "ci", "build", "compile", "compiler", "api",
        "endpoint", "server", "service", "database", "sql", "regex", "loop", "variable", "python",
        "javascript", "typescript", "java", "golang", "rust", "react", "node", "docker", "kubernetes",
        "repo", "commit", "deploy", "stack", "null", "none", "undefined", "crash", "binary search",
        "print", "prints", "returns", "return", "regular expression", "css", "html", "pandas", "csv",
        "código", "codigo", "code", "funktion", "fonction", "функция", "функцию", "коде", "código", "função",
    ),
    SCALE: (
        "multi region", "multiple regions", "regions", "region", "global", "globally", "strongly consistent",
        "strong consistency", "consistency", "consistent", "rpo", "rto", "failover", "zero downtime",
        "no downtime", "partition", "partitions", "partitioned", "sharding", "sharded", "shards",
        "replication", "end to end encrypted", "forward secrecy", "post compromise", "compliance",
        "compliant", "data residency", "residency", "million", "users", "qps", "rps", "requests per second",
        "writes s", "latency", "p99", "deterministic replay", "audit", "multi device", "offline",
        "hot standby", "no lost", "cost", "microsecond", "fairness", "rollback", "cross shard",
        "transactions", "point in time", "schema changes", "failure modes", "spam detection",
        "throughput", "availability", "slo", "slos", "sla",
        "verteilte", "verteilt", "konsistenz", "ausfall", "datenverlust", "latenz", "requêtes",
        "par seconde", "pro sekunde",
    ),
    CONSTRAINT: (
        "must", "without", "only", "no more than", "at most", "at least", "under", "before", "after",
        "budget", "keeping", "preserving", "avoid", "avoiding", "exactly", "requirements", "constraints",
        "not", "no", "never", "each", "per day", "a day", "a week", "limit", "limits",
    ),
    PRIME_WORD: (
        "prime", "primes", "primality", "factor", "factorise", "factorize", "factorisation",
        "factorization", "factors", "divisors", "prime factorisation", "prime factorization",
    ),
    MATH_OBJECT: (
        "integers", "numbers", "ways", "digits", "subsets", "paths", "permutations", "arrangements",
        "solutions", "triangles", "divisors", "multiples", "sequences", "strings", "pairs", "triples",
        "primes", "squares", "outcomes", "positive integers", "4 digit", "3 digit",
    ),
    WORD_OP: ("times", "multiplied", "divided", "plus", "minus", "vezes", "fois", "mal", "multiplicado",
              "dividido", "умножить", "разделить", "multiply", "divide", "add", "subtract"),
    # back-references: a short turn holding one leans on what came before
    FOLLOW: (
        "it", "its", "this", "these", "those", "them", "they", "above", "previous", "same", "instead",
        "again", "too", "else", "eso", "esto", "ça", "cela", "das", "dies", "это", "isso", "lo", "le",
    ),
    SIMPLE_ASK: (
        "in one sentence", "one sentence", "yes or no", "one word", "одним предложением", "en una frase",
        "en une phrase", "in einem satz", "em uma frase",
    ),
}

# Chinese and Japanese cues, matched as substrings.
_CJK_CUES: dict[str, tuple[str, ...]] = {
    CHAT: ("你好", "谢谢", "再见", "早上好", "晚安", "こんにちは", "ありがとう", "おはよう", "こんばんは",
           "さようなら", "よろしく"),
    FACT: ("是什么", "哪里", "哪个", "是谁", "什么时候", "多少", "首都", "何ですか", "どこ", "誰", "いつ",
           "何メートル", "いくつ", "どのくらい"),
    EXPLAIN: ("解释", "说明", "比较", "区别", "优缺点", "原理", "説明", "違い", "比較", "为什么", "なぜ"),
    CODE_WRITE: ("写一个函数", "函数", "代码", "程序", "实现", "関数", "コード", "プログラム", "実装"),
    DEBUG: ("找出错误", "修复", "调试", "バグ", "デバッグ", "エラー", "修正"),
    DESIGN: ("设计", "架构", "設計", "アーキテクチャ"),
    PROOF: ("证明", "証明"),
    SUMMARIZE: ("总结", "概括", "摘要", "要約", "まとめ"),
    WRITE: ("邮件", "写一封", "メール", "書いて", "手紙"),
    TRANSLATE: ("翻译", "翻訳"),
    COMPETITION: ("概率", "多少种", "確率", "何通り"),
    SCALE: ("每秒", "分布式", "一致性", "高可用", "分散"),
    ALGO: ("最短路径", "动态规划", "限流"),
    WORD_OP: ("乘以", "除以"),
}

_SEPARATORS: Final = b"!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n\r\x0b\x0c"
_TRANSLATE_TABLE: Final = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))
_UNICODE_PUNCT: Final = "¿¡«»“”„‘’…—–·•、，。！？：；（）「」『』【】"


def normalise_words(text: str) -> list[str]:
    """Lower-cased words of ``text``; ASCII punctuation separates words, apostrophes vanish."""
    low = text.lower()
    if not low.isascii():
        for ch in _UNICODE_PUNCT:
            if ch in low:
                low = low.replace(ch, " ")
    return low.encode("utf-8", "surrogatepass").translate(_TRANSLATE_TABLE, b"'").decode(
        "utf-8", "replace"
    ).split()


_SEPARATE_KINDS: Final = frozenset({STOP, FOLLOW, CONSTRAINT})  # looked up on demand, not matched


def _compile(
    table: dict[str, tuple[str, ...]],
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[tuple[str, str], ...]]]:
    """Single words -> kinds, and key word -> (padded phrase, kind) pairs."""
    words: dict[str, list[str]] = {}
    phrases: dict[str, list[tuple[str, str]]] = {}
    for kind, entries in table.items():
        if kind in _SEPARATE_KINDS:
            continue
        for entry in entries:
            parts = normalise_words(entry)
            if not parts:
                continue
            if len(parts) == 1:
                words.setdefault(parts[0], []).append(kind)
            else:
                # indexed by the phrase's longest word, usually its rarest: fewer substring checks
                key = max(parts, key=len)
                phrases.setdefault(key, []).append((" " + " ".join(parts) + " ", kind))
    return (
        {w: tuple(dict.fromkeys(k)) for w, k in words.items()},
        {w: tuple(p) for w, p in phrases.items()},
    )


WORD_KINDS, PHRASES = _compile(_CUES)
# word -> (kinds it signals alone, phrases it is the key word of): one dict lookup per word
_ENTRIES: Final = {
    w: (WORD_KINDS.get(w, ()), PHRASES.get(w, ())) for w in frozenset(WORD_KINDS) | frozenset(PHRASES)
}
_KEYS: Final = frozenset(_ENTRIES)
_CJK_KINDS: Final[dict[str, tuple[str, ...]]] = {}
for _kind, _cues in _CJK_CUES.items():
    for _cue in _cues:
        _CJK_KINDS[_cue] = (*_CJK_KINDS.get(_cue, ()), _kind)
# One alternation of literals, longest first: the engine skips quickly to characters that can
# start a cue, which is much faster than one substring search per cue.
_CJK_PATTERN: Final = re.compile("|".join(re.escape(c) for c in sorted(_CJK_KINDS, key=len, reverse=True)))
CHAT_OR_STOP: Final = frozenset(
    w for kind in (CHAT, STOP) for entry in _CUES[kind] for w in normalise_words(entry)
)
FOLLOW_WORDS: Final = frozenset(_CUES[FOLLOW])
CONSTRAINT_WORDS: Final = frozenset(e for e in _CUES[CONSTRAINT] if " " not in e)
CONSTRAINT_PHRASES: Final = tuple(" " + e + " " for e in _CUES[CONSTRAINT] if " " in e)


def constraint_cues(words: list[str]) -> int:
    """Distinct requirement words ("must", "without", "no more than"...) in ``words``."""
    count = len(CONSTRAINT_WORDS.intersection(words))
    padded = " " + " ".join(words) + " "
    return count + sum(1 for p in CONSTRAINT_PHRASES if p in padded)


def match_cues(words: list[str], cjk_text: str | None = None) -> dict[str, list[str]]:
    """Kinds found in ``words`` (and, for CJK text, in ``cjk_text``) with the cue that matched."""
    found: dict[str, list[str]] = {}
    present = _KEYS.intersection(words)
    if present:
        padded = ""
        entries = _ENTRIES
        # sorted: set order depends on the string hash seed; the output must not
        for w in sorted(present):
            kinds, phrases = entries[w]
            for kind in kinds:
                hits = found.get(kind)
                if hits is None:
                    found[kind] = [w]
                else:
                    hits.append(w)
            if phrases:
                if not padded:
                    padded = " " + " ".join(words) + " "
                for phrase, kind in phrases:
                    if phrase in padded:
                        hits = found.get(kind)
                        if hits is None:
                            found[kind] = [phrase[1:-1]]
                        else:
                            hits.append(phrase[1:-1])
    if cjk_text:
        for cue in _CJK_PATTERN.findall(cjk_text):
            for kind in _CJK_KINDS[cue]:
                found.setdefault(kind, []).append(cue)
    return found

