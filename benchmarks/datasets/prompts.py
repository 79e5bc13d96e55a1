# ruff: noqa: E501  (data file: prompts and pasted material are kept on one line each)
"""The labelled prompts, written for this project and labelled by the rubric in
../shared/TIERS.md (the team rubric) (summarised in README.md next to this file).

Each entry: ``id``, ``tier``, ``task``, either ``text`` (one user turn) or ``messages``
(OpenAI chat messages), and an optional ``note`` explaining a label that needs one.
"""

from __future__ import annotations

from typing import Any

import materials as m

ENTRIES: list[dict[str, Any]] = []


def T(tier: str, task: str, id_: str, text: str, note: str | None = None) -> None:
    entry: dict[str, Any] = {"id": id_, "text": text, "tier": tier, "task": task}
    if note:
        entry["note"] = note
    ENTRIES.append(entry)


def M(tier: str, task: str, id_: str, messages: list[dict[str, Any]], note: str | None = None) -> None:
    entry: dict[str, Any] = {"id": id_, "messages": messages, "tier": tier, "task": task}
    if note:
        entry["note"] = note
    ENTRIES.append(entry)


def sys_(text: str) -> dict[str, Any]:
    return {"role": "system", "content": text}


def u(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def a(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def img(url: str = "https://example.com/photo.jpg") -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


def txt(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def fence(code: str, lang: str = "") -> str:
    return f"```{lang}\n{code}\n```"


ASSISTANT_SYS = "You are a helpful assistant. Answer clearly and concisely."
CODING_SYS = (
    "You are an expert software engineer. When you write code, use idiomatic style, include type hints "
    "where the language has them, and explain trade-offs briefly. Prefer the standard library."
)

# ---------------------------------------------------------------------------------------------
# TRIVIAL: greetings, thanks, acknowledgements, chit-chat, echo/format requests
# ---------------------------------------------------------------------------------------------
T("trivial", "chat", "greet-001", "hi")
T("trivial", "chat", "greet-002", "Hello there!")
T("trivial", "chat", "greet-003", "good morning :)")
T("trivial", "chat", "greet-004", "hey, how are you?")
T("trivial", "chat", "greet-005", "What's up?")
T("trivial", "chat", "greet-006", "Good night!")
T("trivial", "chat", "greet-007", "Hi! I'm new here.")
T("trivial", "chat", "greet-008", "Are you there?")
T("trivial", "chat", "greet-009", "bye, talk tomorrow")
T("trivial", "chat", "thanks-001", "thanks, that worked")
T("trivial", "chat", "thanks-002", "Thank you so much!!")
T("trivial", "chat", "thanks-003", "Perfect, that's exactly what I needed. Thanks again!")
T("trivial", "chat", "thanks-004", "Great job, thanks a lot for your patience!")
T(
    "trivial",
    "chat",
    "thanks-005",
    "thanks - I discovered the setting you mentioned, all good now",
    note="trap: 'discovered' contains 'cover'; '-' is punctuation",
)
T("trivial", "chat", "thanks-006", "haha, my code finally compiled, thanks!", note="trap: mentions code")
T("trivial", "chat", "ack-001", "ok")
T("trivial", "chat", "ack-002", "cool, got it")
T("trivial", "chat", "ack-003", "lol nice")
T("trivial", "chat", "ack-004", "no worries")
T("trivial", "chat", "ack-005", "Sounds good, let's do that tomorrow.")
T("trivial", "chat", "ack-006", "\U0001f44d")
T("trivial", "chat", "ack-007", "lol that's proof that I need more coffee", note="trap: 'proof'")
T("trivial", "chat", "ack-008", "test")
T("trivial", "other", "echo-001", "say OK")
T("trivial", "other", "echo-002", "Reply with just the word 'yes'.")
T("trivial", "other", "echo-003", "Repeat after me: the quick brown fox")
T("trivial", "other", "echo-004", "Please respond with an empty JSON object.")
T("trivial", "other", "echo-005", "Can you just say 'test' so I know the connection works?")
T("trivial", "other", "echo-006", "ping")
T("trivial", "other", "echo-007", "Echo this back exactly: ORDER-7731-ACK", note="trap: digits and dashes")
T("trivial", "other", "echo-008", "Just reply 'noted'.")
T("trivial", "other", "echo-009", "Respond only with the number 42.")
# multilingual
T("trivial", "chat", "ml-triv-es-1", "Hola, ¿qué tal?")
T("trivial", "chat", "ml-triv-es-2", "Gracias, eso es todo por hoy.")
T("trivial", "chat", "ml-triv-fr-1", "Merci beaucoup !")
T("trivial", "chat", "ml-triv-fr-2", "Bonjour !")
T("trivial", "chat", "ml-triv-de-1", "Danke schön, das hat geholfen.")
T("trivial", "chat", "ml-triv-de-2", "Vielen Dank für die schnelle Antwort!")
T("trivial", "chat", "ml-triv-zh-1", "谢谢！")
T("trivial", "chat", "ml-triv-zh-2", "你好")
T("trivial", "chat", "ml-triv-ja-1", "ありがとうございます")
T("trivial", "chat", "ml-triv-ja-2", "こんにちは")
T("trivial", "chat", "ml-triv-ru-1", "Спасибо, всё работает.")
T("trivial", "chat", "ml-triv-ru-2", "Привет!")
T("trivial", "chat", "ml-triv-pt-1", "Obrigado pela ajuda!")
T("trivial", "chat", "ml-triv-pt-2", "Oi, tudo bem?")
# long but trivial
T(
    "trivial",
    "chat",
    "long-triv-001",
    m.access_log(60, seed=11) + "\n\nthanks!",
    note="trap: long pasted log, trivial ask",
)
T("trivial", "chat", "long-triv-002", m.ARTICLE + "\n\nok thanks, that's all I needed")
T("trivial", "chat", "long-triv-003", m.PY_TRACEBACK + "\n\nnever mind, I fixed it myself. thanks anyway")
T("trivial", "chat", "long-triv-004", fence(m.PY_MODULE, "python") + "\n\nThanks, I'll try it out.")
T("trivial", "chat", "long-triv-005", m.MEETING_NOTES + "\n\ngreat, got it \U0001f44d")
T("trivial", "chat", "long-triv-006", m.app_log(120, seed=12) + "\n\nAll good now, the job recovered. Cheers!")
# multi-turn trivial
M(
    "trivial",
    "chat",
    "mt-triv-001",
    [
        u("Prove that there are infinitely many primes."),
        a(
            "Suppose there were finitely many primes p1, ..., pk. Consider N = p1*...*pk + 1. ... Hence there are "
            "infinitely many primes."
        ),
        u("thanks, that makes sense now!"),
    ],
    note="thanks after a deep turn stays trivial",
)
M(
    "trivial",
    "chat",
    "mt-triv-002",
    [
        sys_(CODING_SYS),
        u("Why does my React component render twice in development?"),
        a("In development, React StrictMode intentionally double-invokes render to surface side effects..."),
        u("perfect, works now"),
    ],
)
M(
    "trivial",
    "chat",
    "mt-triv-003",
    [
        u("Tell me a fun fact about octopuses."),
        a("Octopuses have three hearts and blue blood."),
        u("haha ok"),
    ],
)
M("trivial", "chat", "mt-triv-004", [sys_(CODING_SYS), u("hi")])
M("trivial", "chat", "mm-triv-001", [u([txt("cute, right? \U0001f60a"), img("https://example.com/cat.jpg")])])

# ---------------------------------------------------------------------------------------------
# SIMPLE: one fact, a definition, a unit conversion, small arithmetic, short translation
# ---------------------------------------------------------------------------------------------
T("simple", "fact", "fact-001", "What is the capital of Peru?")
T("simple", "fact", "fact-002", "capital of australia?")
T("simple", "fact", "fact-003", "Who wrote Pride and Prejudice?")
T("simple", "fact", "fact-004", "When did World War II end?")
T("simple", "fact", "fact-005", "What does HTTP 404 mean?")
T("simple", "fact", "fact-006", "what does http status 503 mean")
T("simple", "fact", "fact-007", "What's the chemical symbol for gold?")
T("simple", "fact", "fact-008", "How many legs does a spider have?")
T("simple", "fact", "fact-009", "What is the boiling point of water in Fahrenheit?")
T("simple", "fact", "fact-010", "Define 'ubiquitous'.")
T("simple", "fact", "fact-011", "What does CPU stand for?")
T("simple", "fact", "fact-012", "Who is the prime minister of Canada?", note="trap: 'prime'")
T("simple", "fact", "fact-013", "Who designed the Eiffel Tower?", note="trap: 'design'")
T("simple", "fact", "fact-014", "Who won the 2018 FIFA World Cup?")
T("simple", "fact", "fact-015", "What is Amazon Prime?", note="trap: 'prime'")
T("simple", "fact", "fact-016", "Is a tomato a fruit?")
T("simple", "fact", "fact-017", "What year did the Berlin Wall fall?")
T("simple", "fact", "fact-018", "What's the largest planet in the solar system?")
T("simple", "fact", "fact-019", "What is the speed of light in m/s?", note="trap: '/' is a unit, not math")
T("simple", "fact", "fact-020", "Who discovered penicillin?", note="trap: 'discovered'")
T(
    "simple",
    "fact",
    "fact-021",
    "Who proved Fermat's Last Theorem?",
    note="trap: 'proved', 'theorem' in a fact question",
)
T("simple", "fact", "fact-022", "What is the Pythagorean theorem?", note="a definition")
T("simple", "fact", "fact-023", "What is a race condition?", note="a definition, not a debugging task")
T("simple", "fact", "fact-024", "What is dynamic programming?", note="a definition; keyword trap")
T("simple", "fact", "fact-025", "Give me a synonym for 'happy'.")
T("simple", "fact", "fact-026", "What's the plural of 'cactus'?")
T("simple", "fact", "fact-027", "Is the Great Wall of China visible from space with the naked eye?")
T("simple", "fact", "fact-028", "What does 24/7 support mean?", note="trap: '/'")
T("simple", "fact", "fact-029", "Which planet is known as the Red Planet?")
T("simple", "fact", "fact-030", "What time zone is Tokyo in?")
T("simple", "fact", "fact-031", "How tall is Mount Everest?")
T("simple", "fact", "fact-032", "Which is bigger, a blue whale or an elephant?")
T("simple", "fact", "fact-033", "What is the past tense of 'swim'?")
T("simple", "fact", "fact-034", "Who painted the Mona Lisa?")
T("simple", "fact", "fact-035", "What's an apartment complex?", note="trap: 'complex'")
T("simple", "fact", "fact-036", "What is the main ingredient of guacamole?")
T("simple", "fact", "fact-037", "What does an IP68 waterproof rating mean?", note="trap: 'proof' in 'waterproof'")
T("simple", "fact", "fact-038", "Define 'dilemma'.", note="trap: 'lemma' inside 'dilemma'")
T("simple", "fact", "fact-039", "What does the paragraph symbol ¶ mean?", note="trap: 'graph' inside 'paragraph'")
# code facts
T("simple", "code", "codefact-001", "What does `git stash` do?")
T("simple", "code", "codefact-002", "How do I exit vim?")
T("simple", "code", "codefact-003", "What port does HTTPS use by default?")
T("simple", "code", "codefact-004", "What does the `ls -la` command do?", note="trap: '-'")
T("simple", "code", "codefact-005", "What's the file extension for TypeScript files?")
T("simple", "code", "codefact-006", "Is Python case-sensitive?")
T("simple", "code", "codefact-007", "What does the HTTP method PATCH do?")
T("simple", "code", "codefact-008", "In git, what's the command to create a new branch called feature-x?")
T("simple", "code", "codefact-009", "What is the keyboard shortcut to comment a line in VS Code on Windows?")
T(
    "simple",
    "code",
    "lang-001",
    "What language is this?\n" + fence(m.RUST_SNIPPET),
    note="trap: code present, simple ask",
)
T("simple", "code", "lang-002", "Which programming language is this written in?\n\n" + fence(m.GO_SERVER))
T("simple", "code", "lang-003", fence(m.PY_MODULE) + "\n\nwhat language is this code in?")
T("simple", "code", "lang-004", fence(m.C_LEAK) + "\n\nWhat's the name of the function defined here?")
# conversions and small arithmetic
T("simple", "math", "conv-001", "convert 5 miles to km")
T("simple", "math", "conv-002", "How many ounces in a pound?")
T("simple", "math", "conv-003", "convert 100 F to C")
T("simple", "math", "conv-004", "What is 72 kg in pounds?")
T("simple", "math", "conv-005", "How many seconds are in a day?")
T("simple", "math", "arith-s-001", "2+3")
T("simple", "math", "arith-s-002", "What is 7 × 8?")
T("simple", "math", "arith-s-003", "what is 144 / 12", note="'/' as division between numbers")
T("simple", "math", "arith-s-004", "What's 17 - 9?")
T("simple", "math", "arith-s-005", "what's 15% of 200?")
T("simple", "math", "arith-s-006", "What is the square root of 81?")
T("simple", "math", "arith-s-007", "What is 2^10?")
T("simple", "math", "arith-s-008", "Is 0 an even number?")
T("simple", "math", "arith-s-009", "Is 91 prime?", note="small number, one factor check")
T("simple", "math", "arith-s-010", "What's the derivative of x^2?")
T("simple", "math", "arith-s-011", "12 * 8 = ?")
T("simple", "math", "arith-s-012", "What is half of 350?")
# short translations
T("simple", "writing", "tr-001", "Translate 'good morning' into Spanish.")
T("simple", "writing", "tr-002", "How do you say 'thank you' in Japanese?")
T("simple", "writing", "tr-003", "Translate to French: Where is the train station?")
T("simple", "writing", "tr-004", "What's 'butterfly' in German?")
# multilingual simple
T("simple", "fact", "ml-simp-es-1", "¿Cuál es la capital de Perú?")
T("simple", "fact", "ml-simp-es-2", "¿Cómo se dice 'gato' en inglés?")
T("simple", "fact", "ml-simp-fr-1", "Quelle est la capitale de l'Australie ?")
T("simple", "fact", "ml-simp-fr-2", "Quel est le symbole chimique du fer ?")
T("simple", "math", "ml-simp-de-1", "Wie viele Meter hat ein Kilometer?")
T("simple", "fact", "ml-simp-de-2", "Was bedeutet HTTP 404?")
T("simple", "fact", "ml-simp-zh-1", "日本的首都是哪里？")
T("simple", "fact", "ml-simp-zh-2", "光速是多少？")
T("simple", "fact", "ml-simp-ja-1", "富士山の高さは何メートルですか？")
T("simple", "fact", "ml-simp-ja-2", "日本の首都はどこですか？")
T("simple", "math", "ml-simp-ru-1", "Сколько будет 7 умножить на 8?")
T("simple", "fact", "ml-simp-ru-2", "Что такое фотосинтез? Ответь одним предложением.")
T("simple", "fact", "ml-simp-pt-1", "Qual é a capital do Canadá?")
T("simple", "fact", "ml-simp-pt-2", "Quem escreveu Dom Casmurro?")
# long but simple
T("simple", "other", "long-simp-001", m.access_log(40, seed=21) + "\n\nWhat's the timestamp on the first line?")
T("simple", "other", "long-simp-002", m.FINANCE_TABLE + "\n\nHow many columns does this CSV have?")
T("simple", "other", "long-simp-003", m.ARTICLE + "\n\nDoes this article mention wild bees? yes or no")
T(
    "moderate",
    "summarize",
    "long-mod-003",
    m.ARTICLE + "\n\nWhat is this text about, in one line?",
    note="a one-line gist is still summarising a given text",
)
T("simple", "code", "long-simp-004", m.PY_TRACEBACK + "\n\nWhich exception is raised here?")
# multi-turn simple
M(
    "simple",
    "fact",
    "mt-simp-001",
    [
        u("capital of Peru?"),
        a("Lima."),
        u("and Chile?"),
    ],
    note="follow-up inherits a simple context",
)
M(
    "simple",
    "fact",
    "mt-simp-002",
    [
        sys_(ASSISTANT_SYS),
        u("Who wrote One Hundred Years of Solitude?"),
        a("Gabriel García Márquez."),
        u("what year was it published?"),
    ],
)
M("simple", "math", "mt-simp-003", [u("convert 10 km to miles"), a("About 6.21 miles."), u("and 42 km?")])
# multimodal simple
M("simple", "other", "mm-simp-001", [u([txt("What color is the car in this photo?"), img()])])
M("simple", "other", "mm-simp-002", [u([img("https://example.com/sign.png"), txt("What does the sign say?")])])
# tool use, simple
M(
    "simple",
    "fact",
    "tool-simp-001",
    [
        u("What's the weather in Paris right now?"),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 14, "conditions": "light rain"}'},
    ],
)

# ---------------------------------------------------------------------------------------------
# MODERATE: explain/compare known concepts, short standard code, grade-school word problems,
# multi-digit arithmetic, summarise or rewrite a given text, ordinary emails
# ---------------------------------------------------------------------------------------------
T("moderate", "analysis", "explain-001", "Compare REST and GraphQL.")
T("moderate", "analysis", "explain-002", "Explain how HTTPS works.")
T("moderate", "analysis", "explain-003", "What are the differences between TCP and UDP?")
T("moderate", "analysis", "explain-004", "Explain the difference between a process and a thread.")
T("moderate", "analysis", "explain-005", "Why is the sky blue?")
T("moderate", "analysis", "explain-006", "How does a bloom filter work?")
T("moderate", "analysis", "explain-007", "Explain recursion to a 10-year-old.")
T("moderate", "analysis", "explain-008", "What are the pros and cons of microservices vs a monolith?")
T("moderate", "analysis", "explain-009", "Explain the CAP theorem.", note="trap: 'theorem' in an explanation")
T("moderate", "analysis", "explain-010", "How does garbage collection work in Java?")
T("moderate", "analysis", "explain-011", "Explain what a race condition is and give an example.")
T("moderate", "code", "explain-012", "What's the difference between == and === in JavaScript?")
T("moderate", "analysis", "explain-013", "Explain the main causes of World War I.")
T("moderate", "analysis", "explain-014", "How do mRNA vaccines train the immune system?")
T("moderate", "analysis", "explain-015", "Explain inflation and how central banks try to control it.")
T(
    "moderate",
    "analysis",
    "explain-016",
    "Explain the proof-of-work idea in Bitcoin in simple terms.",
    note="trap: 'proof'",
)
T(
    "moderate",
    "analysis",
    "explain-017",
    "Roughly how does the YouTube recommendation algorithm work?",
    note="trap: 'algorithm' in an explanation",
)
T("moderate", "analysis", "explain-018", "Should I use PostgreSQL or MongoDB for a small blog? Explain why.")
T("moderate", "analysis", "explain-019", "What is the difference between a matrix and a tensor in machine learning?")
T("moderate", "analysis", "explain-020", "Why do we have leap years?")
T("moderate", "analysis", "explain-021", "How does public-key cryptography work?")
T("moderate", "analysis", "explain-022", "What's the difference between weather and climate? Give examples.")
# short standard code
T("moderate", "code", "code-m-001", "Write a Python function that reverses the words in a sentence.")
T("moderate", "code", "code-m-002", "Write a JavaScript debounce function.")
T(
    "moderate",
    "code",
    "code-m-003",
    "Write a SQL query to get the top 5 customers by total order amount from orders(customer_id, amount).",
)
T("moderate", "code", "code-m-004", "Write a bash one-liner that counts lines in all .py files recursively.")
T("moderate", "code", "code-m-005", "Write a regex that matches a US ZIP code (5 digits or ZIP+4).")
T("moderate", "code", "code-m-006", "How do I read a CSV file in pandas and drop the rows with NaN values?")
T("moderate", "code", "code-m-007", "Write a Python class for a stack with push, pop and peek.")
T("moderate", "code", "code-m-008", "Write a Java method that checks whether a string is a palindrome.")
T("moderate", "code", "code-m-009", "Write a Dockerfile for a small Flask app.")
T("moderate", "code", "code-m-010", "Explain what this code does:\n" + fence(m.PY_MODULE, "python"))
T(
    "moderate",
    "code",
    "code-m-011",
    "Add type hints and a docstring to this function:\n"
    + fence("def merge(a, b):\n    out = dict(a)\n    out.update(b)\n    return out", "python"),
)
T("moderate", "code", "code-m-012", "How do I make an HTTP GET request with a timeout in Go?")
T("moderate", "code", "code-m-013", "Write a function in C that returns the maximum of an int array.")
T("moderate", "code", "code-m-014", "Write a Python script that renames all .jpeg files in a folder to .jpg.")
T(
    "moderate",
    "code",
    "code-m-015",
    "Convert this to a list comprehension: \n"
    + fence("result = []\nfor x in nums:\n    if x % 2 == 0:\n        result.append(x * x)", "python"),
)
# word problems and multi-step arithmetic
T(
    "moderate",
    "math",
    "word-001",
    "A train leaves at 3pm travelling at 60 km/h. Another leaves the same station at 4pm at 90 km/h on the "
    "same track. At what time does the second train catch up?",
)
T(
    "moderate",
    "math",
    "word-002",
    "I buy 3 notebooks at $2.40 each and 2 pens at $1.15 each. How much change do I get from $20?",
)
T(
    "moderate",
    "math",
    "word-003",
    "Sarah is twice as old as Tom. In 5 years the sum of their ages will be 40. How old is Tom now?",
)
T("moderate", "math", "word-004", "A recipe for 4 people uses 300 g of flour. How much flour do I need for 7?")
T(
    "moderate",
    "math",
    "word-005",
    "A rectangle has a perimeter of 36 cm and its length is twice its width. What is its area?",
)
T("moderate", "math", "word-006", "If a shirt costs $40 after a 20% discount, what was the original price?")
T(
    "moderate",
    "math",
    "word-007",
    "A tank fills in 6 hours with pipe A and 3 hours with pipe B. How long with both pipes open?",
)
T("moderate", "math", "arith-m-001", "What is 4821 × 7395?", note="4-digit by 4-digit multiplication")
T("moderate", "math", "arith-m-002", "Compute 123456 + 987654 - 45678")
T("moderate", "math", "arith-m-003", "What's 17 * 23?", note="multi-digit multiplication")
T("moderate", "math", "arith-m-004", "Divide 98765 by 43 and give the quotient and remainder.")
T("moderate", "math", "arith-m-005", "What is 3^15?")
T("moderate", "math", "arith-m-006", "Compute 7^222 mod 13.")
T("moderate", "math", "arith-m-007", "Factor 391.")
T("moderate", "math", "arith-m-008", "What is 12.5% of 3,480?")
T("moderate", "math", "arith-m-009", "Solve 3x + 7 = 22.")
T("moderate", "math", "arith-m-010", "Solve the system 2x + y = 7, x - y = 2.")
T("moderate", "math", "arith-m-011", "What is the derivative of sin(x) * e^x?")
T("moderate", "math", "arith-m-012", "Integrate x e^x dx.")
T("moderate", "math", "arith-m-013", "What is 987 * 654?")
T("moderate", "math", "arith-m-014", "What's the sum of the integers from 1 to 250?")
T("moderate", "math", "arith-m-015", "Find the mean and median of 4, 8, 15, 16, 23, 42.")
# summarise and rewrite given text
T("moderate", "summarize", "sum-001", "Summarize this article in 3 bullet points:\n\n" + m.ARTICLE)
T("moderate", "summarize", "sum-002", "TL;DR please:\n\n" + m.EMAIL_THREAD)
T("moderate", "summarize", "sum-003", m.MEETING_NOTES + "\n\nCan you summarise these notes and list the action items?")
T("moderate", "summarize", "sum-004", "Summarise what happened in this log:\n" + m.K8S_EVENTS)
T("moderate", "summarize", "sum-005", "Give me a two-sentence summary of the following:\n" + m.ARTICLE.split("\n\n")[1])
T(
    "moderate",
    "writing",
    "rewrite-001",
    "Rewrite this paragraph to sound more formal:\n\nhey so the release is gonna slip a bit, the tests are "
    "kinda flaky and we need like two more days to sort it out. sorry!",
)
T(
    "moderate",
    "writing",
    "rewrite-002",
    "Fix the grammar: 'Me and him goes to the store yesterday and buyed three apple.'",
)
T("moderate", "writing", "rewrite-003", "Translate this paragraph into German:\n\n" + m.ARTICLE.split("\n\n")[0])
T("moderate", "writing", "rewrite-004", "Make this sound friendlier: 'Your request has been denied. Do not reply.'")
T("moderate", "summarize", "sum-006", "Summarize the key points of this contract for a non-lawyer:\n\n" + m.CONTRACT)
T("moderate", "summarize", "ml-sum-fr-1", "Résume ce texte en deux phrases :\n\n" + m.ARTICLE)
T(
    "moderate",
    "summarize",
    "ml-sum-de-1",
    "Fasse diese Besprechungsnotizen in drei Stichpunkten zusammen:\n\n" + m.MEETING_NOTES,
)
T("moderate", "summarize", "ml-sum-zh-1", "请用三句话总结下面的文章：\n\n" + m.ARTICLE)
T(
    "moderate",
    "writing",
    "rewrite-005",
    "Can you improve this sentence: 'The meeting was very very important and stuff.'",
    note="trap: 'improve' contains 'prove'",
)
T(
    "moderate",
    "analysis",
    "explain-023",
    "Induction cooktop or gas stove: what are the trade-offs?",
    note="trap: 'induction'",
)
T(
    "moderate",
    "other",
    "extract-001",
    "Extract every email-like sender name from this thread as a list:\n\n" + m.EMAIL_THREAD,
)
# writing
T("moderate", "writing", "write-001", "Draft an email to my landlord asking them to fix the heating.")
T(
    "moderate",
    "writing",
    "write-002",
    "Write a short thank-you note to a colleague who covered my shift.",
    note="trap: 'covered'",
)
T("moderate", "writing", "write-003", "Write a haiku about autumn.")
T("moderate", "writing", "write-004", "Write a product description for a stainless steel water bottle.")
T("moderate", "writing", "write-005", "Write a LinkedIn post announcing my new job as a data analyst.")
T(
    "moderate",
    "writing",
    "write-006",
    "Write the opening paragraph of a cover letter for a junior designer role.",
    note="trap: 'cover', 'design'",
)
T("moderate", "writing", "write-007", "Write a 300-word blog intro about remote work.")
T("moderate", "writing", "write-008", "Write a polite message declining a meeting invitation.")
T("moderate", "writing", "write-009", "Give me 5 name ideas for a coffee shop near a university.")
T("moderate", "writing", "write-010", "Write a limerick about a cat who loves lasagna.")
# multilingual moderate
T("moderate", "analysis", "ml-mod-es-1", "Explica la diferencia entre TCP y UDP.")
T("moderate", "writing", "ml-mod-es-2", "Escribe un correo a mi jefe pidiendo un día libre el viernes.")
T("moderate", "code", "ml-mod-fr-1", "Écris une fonction Python qui inverse une chaîne de caractères.")
T("moderate", "analysis", "ml-mod-fr-2", "Explique le fonctionnement de la photosynthèse.")
T("moderate", "analysis", "ml-mod-de-1", "Erkläre den Unterschied zwischen einem Prozess und einem Thread.")
T("moderate", "math", "ml-mod-de-2", "Ein Zug fährt um 14 Uhr mit 80 km/h los. Wie weit ist er um 16:30 Uhr gefahren?")
T("moderate", "code", "ml-mod-zh-1", "用Python写一个函数，判断一个字符串是否是回文。")
T("moderate", "analysis", "ml-mod-zh-2", "比较一下REST和GraphQL的优缺点。")
T("moderate", "analysis", "ml-mod-ja-1", "RESTとGraphQLの違いを説明してください。")
T("moderate", "writing", "ml-mod-ja-2", "取引先に会議の日程変更をお願いするメールを書いてください。")
T("moderate", "writing", "ml-mod-ru-1", "Напиши письмо начальнику с просьбой об отпуске на неделю.")
T("moderate", "analysis", "ml-mod-ru-2", "Объясни, чем отличается TCP от UDP.")
T("moderate", "summarize", "ml-mod-pt-1", "Resuma o texto a seguir em três frases:\n\n" + m.PT_TEXT)
T("moderate", "math", "ml-mod-pt-2", "Quanto é 2.345 vezes 678?")
# multi-turn moderate
M(
    "moderate",
    "writing",
    "mt-mod-001",
    [
        u("Draft an email to my team announcing that Friday's release is postponed to Tuesday."),
        a(
            "Subject: Release moved to Tuesday\n\nHi team,\n\nWe're moving Friday's release to Tuesday to give us "
            "time to finish testing..."
        ),
        u("make it shorter and more upbeat"),
    ],
    note="rewriting a given draft",
)
M(
    "moderate",
    "analysis",
    "mt-mod-002",
    [
        u("Explain how TCP handles packet loss."),
        a("TCP detects loss through timeouts and duplicate ACKs, then retransmits..."),
        u("and how does QUIC differ?"),
    ],
)
M(
    "moderate",
    "writing",
    "mt-mod-003",
    [
        u("Write a short note inviting neighbours to a street party on Saturday."),
        a("Hi neighbours! We're having a street party this Saturday from 3pm..."),
        u("now in Spanish please"),
    ],
)
M(
    "moderate",
    "code",
    "mt-mod-004",
    [
        sys_(CODING_SYS),
        u("Write a Python function to flatten a nested list."),
        a(
            "def flatten(xs):\n    for x in xs:\n        if isinstance(x, list):\n            yield from flatten(x)\n"
            "        else:\n            yield x"
        ),
        u("can you make it iterative instead of recursive?"),
    ],
)
# multimodal moderate
M(
    "moderate",
    "analysis",
    "mm-mod-001",
    [u([txt("Describe this chart and summarise the trend."), img("https://example.com/chart.png")])],
)
M(
    "moderate",
    "writing",
    "mm-mod-002",
    [u([img("https://example.com/product.jpg"), txt("Write an Instagram caption for this product photo.")])],
)
# long moderate
T("moderate", "summarize", "long-mod-001", m.app_log(150, seed=31) + "\n\nSummarise what happened in this log.")
T("moderate", "summarize", "long-mod-002", "Summarise this for my manager:\n\n" + m.long_document(8, seed=32))

# ---------------------------------------------------------------------------------------------
# COMPLEX: debugging, non-trivial algorithms, one-component design with trade-offs,
# competition math (AMC), multi-constraint planning, careful analysis of long context
# ---------------------------------------------------------------------------------------------
T("complex", "code", "debug-001", "Find the race condition in this code:\n" + fence(m.GO_RACE, "go"))
T(
    "complex",
    "code",
    "debug-002",
    "My binary search never terminates for some inputs. What's wrong and how do I fix it?\n"
    + fence(m.PY_BUGGY_BSEARCH, "python"),
)
T("complex", "code", "debug-003", "This React component re-renders forever. Why?\n" + fence(m.JS_EFFECT, "jsx"))
T("complex", "code", "debug-004", "Fix the memory leak in this C function:\n" + fence(m.C_LEAK, "c"))
T("complex", "code", "debug-005", "This query takes 8 seconds. How do I make it fast?\n\n" + m.SQL_SLOW)
T(
    "complex",
    "code",
    "debug-006",
    "I get this error when opening /reports?month=2024-02:\n\n"
    + m.PY_TRACEBACK
    + "\n\nHere's summary.py:\n"
    + fence(
        "def summarize(rows, month):\n    rows = [r for r in rows if r.month == "
        "month]\n    avg = sum(r.amount for r in rows) / len(rows)\n    return "
        "{'avg': avg, 'n': len(rows)}",
        "python",
    )
    + "\nWhy does it crash only for some months, and what's the right fix?",
)
T(
    "complex",
    "code",
    "debug-007",
    "Our pods keep restarting. Here are the events; what's going on and what should we change?\n\n" + m.K8S_EVENTS,
)
T(
    "complex",
    "code",
    "debug-008",
    "Why does this print 3 3 3 instead of 0 1 2, and how do I fix it?\n"
    + fence("for (var i = 0; i < 3; i++) {\n  setTimeout(() => console.log(i), 0);\n}", "js"),
    note="classic closure bug; complex by the debugging rule, though short",
)
T(
    "complex",
    "code",
    "review-001",
    "Review this module for bugs and unhandled edge cases:\n" + fence(m.PY_MODULE, "python"),
)
T(
    "complex",
    "code",
    "review-002",
    "Refactor this so it streams the CSV instead of loading it all into memory, "
    "keeping the output identical:\n" + fence(m.PY_MODULE, "python"),
)
# algorithms
T("complex", "code", "algo-001", "Write a function for the longest increasing subsequence in O(n log n).")
T("complex", "code", "algo-002", "Implement Dijkstra's algorithm with a binary heap in Python.")
T(
    "complex",
    "code",
    "algo-003",
    "Given an m x n grid with obstacles, count the number of unique paths from the top-left to the bottom-right "
    "moving only right or down. Write the DP solution.",
)
T("complex", "code", "algo-004", "Implement an LRU cache with O(1) get and put.")
T(
    "complex",
    "code",
    "algo-005",
    "Find the minimum number of coins to make a given amount; write a DP solution and explain its complexity.",
)
T("complex", "code", "algo-006", "Write a function that finds the longest palindromic substring of a string.")
T("complex", "code", "algo-007", "Detect a cycle in a directed graph and return the nodes on the cycle.")
T("complex", "code", "algo-008", "Implement a trie with autocomplete that returns the top-k words by frequency.")
T("complex", "code", "algo-009", "Serialize and deserialize a binary tree in Java.")
T(
    "complex",
    "code",
    "algo-010",
    "Write a Python script that streams nginx logs larger than memory and reports p95 latency per endpoint.",
)
T(
    "complex",
    "code",
    "algo-011",
    "Convert this callback code to async/await, keeping the error handling:\n"
    + fence(
        "function load(id, cb) {\n  db.get(id, (err, user) => {\n    if (err) return cb(err);\n"
        "    api.fetchOrders(user.id, (err2, orders) => {\n      if (err2) return cb(err2);\n"
        "      cache.set(id, orders, (err3) => cb(err3, orders));\n    });\n  });\n}",
        "js",
    ),
)
T("complex", "code", "algo-012", "Write an interval tree supporting insert and overlap queries.")
T("complex", "code", "algo-013", "Implement the edit distance between two strings and reconstruct the edits.")
T(
    "complex",
    "code",
    "algo-014",
    "Write a thread-safe bounded blocking queue in Java without using java.util.concurrent.",
)
# one-component design
T("complex", "analysis", "design-001", "Design a rate limiter for 10k requests per second.")
T(
    "complex",
    "analysis",
    "design-002",
    "Design the database schema and API for a URL shortener and discuss the trade-offs.",
)
T(
    "complex",
    "analysis",
    "design-003",
    "How should I design the caching layer for our product catalogue? Reads are 50k rps, writes 100/s, "
    "and the data is about 20 GB.",
)
T(
    "complex",
    "analysis",
    "design-004",
    "Design a retry policy with exponential backoff and jitter for our payment client. Explain the trade-offs.",
)
T("complex", "analysis", "design-005", "Design a schema for a multi-tenant SaaS invoicing app.")
T(
    "complex",
    "analysis",
    "design-006",
    "We need a job queue for sending 2M emails a day with retries and per-customer rate limits. Redis or "
    "Postgres-based? Design it.",
)
# competition math
T("complex", "math", "amc-001", "How many positive integers less than 1000 are divisible by 3 or 5 but not by 15?")
T(
    "complex",
    "math",
    "amc-002",
    "Count the lattice paths from (0,0) to (6,6) using unit steps right or up that avoid the points (3,3) and (2,4).",
)
T(
    "complex",
    "math",
    "amc-003",
    "In how many ways can 8 people sit around a round table if two particular people refuse to sit together?",
)
T(
    "complex",
    "math",
    "amc-004",
    "Three consecutive terms of a geometric sequence sum to 26 and multiply to 216. Find them.",
)
T(
    "complex",
    "math",
    "amc-005",
    "A bag has 5 red and 7 blue marbles. Three are drawn without replacement. What's the probability exactly two are red?",
)
T("complex", "math", "amc-006", "Find the number of trailing zeros of 125! and explain.")
T("complex", "math", "amc-007", "Find the smallest positive integer n such that n! is divisible by 2^10 * 3^5 * 5^3.")
T("complex", "math", "amc-008", "Find all real x such that sqrt(x + 3) + sqrt(x - 2) = 5.")
T("complex", "math", "amc-009", "How many 4-digit numbers have digits that sum to 10?")
T("complex", "math", "arith-c-001", "Compute 98765432 × 12345678 exactly.", note="8-digit by 8-digit")
T("complex", "math", "arith-c-002", "Is 1,000,003 prime?", note="7-digit primality needs real trial division")
T("complex", "math", "arith-c-003", "Factor 1234567 into primes.")
# planning
T(
    "complex",
    "analysis",
    "plan-001",
    "Plan a 5-day Japan itinerary: budget $1500, vegetarian, must visit Kyoto and Hiroshima, no more than 3 "
    "hours on trains per day, arriving in Tokyo and flying out of Osaka.",
)
T(
    "complex",
    "analysis",
    "plan-002",
    "Schedule these meetings in one week: A (2h, needs Ana and Bo), B (1h, Bo and Cy, not Monday), C (3h, Ana, "
    "before B), D (1h, everyone, Friday morning only). Ana is out Tuesday, Cy only works mornings.",
)
T(
    "complex",
    "analysis",
    "plan-003",
    "Make me a 7-day meal plan: 2000 kcal a day, 150 g protein, no dairy, under $60 for the week, and no meal "
    "repeated more than twice.",
)
T(
    "complex",
    "analysis",
    "plan-004",
    "I have $20k in savings, $8k credit card debt at 24%, a car loan at 6%, and want to buy a house in 3 years. "
    "How should I prioritise? Walk through the numbers.",
)
# long-context analysis
T(
    "complex",
    "analysis",
    "longan-001",
    m.CONTRACT
    + "\n\nIdentify the clauses that conflict with each other and explain what risk each conflict creates for "
    "the customer.",
)
T(
    "complex",
    "analysis",
    "longan-002",
    "Here are the service logs from the outage window:\n\n"
    + m.app_log(180, seed=41)
    + "\n\nWhat is the most likely root cause of the failed jobs, and what evidence supports it?",
)
T(
    "complex",
    "analysis",
    "longan-003",
    m.FINANCE_TABLE
    + "\n\nAnalyse the trends in this data: margins, efficiency, churn. Flag anything worrying and explain.",
)
T(
    "complex",
    "analysis",
    "longan-004",
    m.EMAIL_THREAD
    + "\n\nBuild a timeline of the move with all deadlines, and point out any scheduling conflicts or risks.",
)
T(
    "complex",
    "analysis",
    "longan-005",
    "Here's our nginx access log for the incident:\n\n"
    + m.access_log(150, seed=42)
    + "\n\nWhich endpoints are failing, since when, and is there a pattern by client? Be careful and specific.",
)
# multilingual complex
T(
    "complex",
    "code",
    "ml-comp-es-1",
    "Encuentra el error en este código y explica cómo corregirlo:\n" + fence(m.PY_BUGGY_BSEARCH, "python"),
)
T(
    "complex",
    "analysis",
    "ml-comp-fr-1",
    "Conçois un limiteur de débit pour 10 000 requêtes par seconde et discute des compromis.",
)
T("complex", "code", "ml-comp-de-1", "Implementiere den Dijkstra-Algorithmus in Python mit einem Heap.")
T("complex", "analysis", "ml-comp-zh-1", "请设计一个支持每秒一万次请求的限流器，并讨论各种方案的权衡。")
T(
    "complex",
    "code",
    "ml-comp-ja-1",
    "この関数のバグを見つけて修正してください。\n" + fence(m.PY_BUGGY_BSEARCH, "python"),
)
T(
    "complex",
    "code",
    "ml-comp-ru-1",
    "Найди состояние гонки в этом коде и объясни, как его исправить:\n" + fence(m.GO_RACE, "go"),
)
T(
    "complex",
    "math",
    "ml-comp-pt-1",
    "Quantos caminhos existem numa grade 6x6, indo só para a direita ou para cima, evitando o ponto (3,3)?",
)
T(
    "complex",
    "math",
    "ml-comp-es-2",
    "¿De cuántas formas se pueden sentar 8 personas alrededor de una mesa redonda si dos de ellas no quieren "
    "estar juntas?",
)
# multi-turn complex
M(
    "complex",
    "code",
    "mt-comp-001",
    [
        sys_(CODING_SYS),
        u("I need the number of pairs (i, j) with i < j and a[i] > a[j]. My O(n^2) double loop works for n = 10^4."),
        a("For n = 10^4 the double loop does about 5*10^7 comparisons, which is fine in C++ and slow-ish in Python."),
        u("and for n = 10^6?"),
    ],
    note="follow-up inherits: needs merge-sort/BIT inversion counting",
)
M(
    "complex",
    "analysis",
    "mt-comp-002",
    [
        u("How do I find the shortest path in a weighted graph?"),
        a("Use Dijkstra's algorithm with a priority queue; it runs in O((V + E) log V) for non-negative weights."),
        u("what if some edges are negative?"),
    ],
)
M(
    "complex",
    "code",
    "mt-comp-003",
    [
        u("Here's my Go counter service:\n" + fence(m.GO_RACE, "go")),
        a("It increments a map of hit counts behind a mutex and serves the counts at /stats."),
        u("ok, is it safe under concurrent load?"),
    ],
)
M(
    "complex",
    "analysis",
    "mt-comp-004",
    [
        u("Design a rate limiter for our public API, 10k rps."),
        a("A token bucket per API key, stored in Redis with a Lua script for atomic refill-and-take..."),
        u("now make it work across 3 regions without a shared Redis"),
    ],
)
# tool use, complex
M(
    "complex",
    "code",
    "tool-comp-001",
    [
        sys_(CODING_SYS),
        u("The CI is red on main. Find out why the tests fail and fix it."),
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_7", "type": "function", "function": {"name": "run", "arguments": '{"cmd": "pytest -x"}'}}
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "call_7",
            "content": "FAILED tests/test_reports.py::test_empty_month - ZeroDivisionError: division by zero\n"
            + m.PY_TRACEBACK,
        },
    ],
)
# multimodal complex
M(
    "complex",
    "code",
    "mm-comp-001",
    [u([txt("Find the bug in the code in this screenshot and fix it."), img("https://example.com/screenshot.png")])],
)
M(
    "complex",
    "math",
    "mm-comp-002",
    [
        u(
            [
                img("https://example.com/geometry.png"),
                txt("Solve the geometry problem in this picture. Show your reasoning."),
            ]
        )
    ],
)

# ---------------------------------------------------------------------------------------------
# DEEP: proofs, olympiad math, whole-system design under many constraints, research-level
# questions, search-heavy puzzles, long multi-part derivations
# ---------------------------------------------------------------------------------------------
T("deep", "math", "proof-001", "Prove that there are infinitely many primes of the form 4k+3.")
T("deep", "math", "proof-002", "Prove that sqrt(2) is irrational.")
T("deep", "math", "proof-003", "Show that every planar graph is 5-colorable.")
T("deep", "math", "proof-004", "Prove that the harmonic series diverges.")
T("deep", "math", "proof-005", "Prove by induction that 1^3 + 2^3 + ... + n^3 = (n(n+1)/2)^2.")
T("deep", "math", "proof-006", "Show that for every integer n, n^5 - n is divisible by 30.")
T("deep", "math", "proof-007", "Prove that a group of order p^2 is abelian.")
T(
    "deep",
    "math",
    "proof-008",
    "Prove that there is no largest prime gap, i.e. gaps between consecutive primes are unbounded.",
)
T("deep", "math", "proof-009", "Is 2^89-1 prime? Justify.", note="short but deep")
T("deep", "math", "proof-010", "Prove that every continuous function on [0,1] is uniformly continuous.")
T("deep", "math", "proof-011", "Prove that the set of real numbers is uncountable.")
T("deep", "math", "proof-012", "Prove that e is irrational.")
T(
    "deep",
    "math",
    "oly-001",
    "Find all functions f: R -> R such that f(x + y) = f(x) + f(y) + 2xy for all real x, y, with f continuous.",
)
T("deep", "math", "oly-002", "Find all positive integers n such that n^2 + 2^n is a perfect square.")
T("deep", "math", "oly-003", "Let a, b, c be positive reals with abc = 1. Prove that a^3 + b^3 + c^3 >= a + b + c.")
T(
    "deep",
    "math",
    "oly-004",
    "Determine all pairs of positive integers (m, n) such that m^2 + n and n^2 + m are both perfect squares.",
)
T(
    "deep",
    "math",
    "oly-005",
    "Find the number of ordered triples (a, b, c) of positive odd integers with a + b + c = 31 such that no "
    "two are equal. Then generalise to a + b + c = 2k + 1 and prove your formula.",
)
T("deep", "math", "oly-006", "How many subsets of {1, 2, ..., 2024} have a sum divisible by 5? Prove it.")
T(
    "deep",
    "math",
    "oly-007",
    "Let ABC be an acute triangle with orthocenter H. Prove that the reflection of H across BC lies on the "
    "circumcircle of ABC.",
)
T(
    "deep",
    "math",
    "oly-008",
    "Find all integer solutions of x^3 + y^3 + z^3 = 3 with |x|, |y|, |z| < 10 and prove none are missing.",
)
T("deep", "math", "arith-d-001", "Factor 18446744073709551617 into primes.", note="20-digit factorisation")
T("deep", "math", "arith-d-002", "Find the prime factorisation of 10000000000000000000000000000001.")
T("deep", "math", "arith-d-003", "Compute the last 10 digits of 3^(3^100) and justify each step.")
# research-level and derivations
T("deep", "analysis", "research-001", "Are there infinitely many twin primes? Summarise what is proven and what isn't.")
T(
    "deep",
    "analysis",
    "research-002",
    "What are the main approaches to the Riemann hypothesis and why has each fallen short?",
)
T("deep", "math", "deriv-001", "Derive the Black-Scholes PDE from first principles using Ito's lemma.")
T(
    "deep",
    "math",
    "deriv-002",
    "Derive the evidence lower bound for a variational autoencoder, then derive the reparameterisation gradient "
    "and explain why the naive score-function estimator has higher variance.",
)
T(
    "deep",
    "analysis",
    "research-003",
    "Compare the expressivity of transformers and state-space models in terms of circuit complexity classes. "
    "What can one provably do that the other cannot?",
)
T(
    "deep",
    "math",
    "deriv-003",
    "Derive the Schwarzschild metric from the vacuum Einstein equations assuming spherical symmetry.",
)
T(
    "deep",
    "analysis",
    "research-004",
    "Propose a research plan to test whether chain-of-thought length causally improves accuracy on math "
    "benchmarks, controlling for model size, sampling temperature and data contamination.",
)
# whole-system design under many constraints
T(
    "deep",
    "analysis",
    "sysdes-001",
    "Design a multi-region strongly consistent database: RPO = 0, p99 write latency under 50 ms within a region, "
    "survive the loss of any one region, 200k writes/s globally, online schema changes, and point-in-time "
    "restore for 30 days.",
)
T(
    "deep",
    "analysis",
    "sysdes-002",
    "Design the architecture of a global ride-hailing platform: 50M users, rider-driver matching under 2 s, "
    "surge pricing, payments compliant in 40 countries, drivers with flaky connectivity, and regional data "
    "residency. Cover data model, consistency, failure modes and cost.",
)
T(
    "deep",
    "analysis",
    "sysdes-003",
    "Design a stock exchange matching engine: 1M orders/s, deterministic replay, microsecond latency, "
    "fairness guarantees, hot standby failover with no lost orders, and audit requirements.",
)
T(
    "deep",
    "analysis",
    "sysdes-004",
    "We are moving a 4 TB Postgres monolith serving 30k qps to a sharded setup with zero downtime. "
    "Requirements:\n- no more than 5 minutes of degraded writes\n- cross-shard transactions for payments\n"
    "- rollback possible at every step\n- reporting queries keep working\n- team of 4 engineers, 6 months\n"
    "Give the full migration plan, the sharding key choice and how you'd verify correctness.",
)
T(
    "deep",
    "analysis",
    "sysdes-005",
    "Design an end-to-end encrypted group chat supporting 1,000-member groups, multi-device, offline delivery, "
    "forward secrecy and post-compromise security, with server-side spam detection that never sees plaintext.",
)
# puzzles needing search
T(
    "deep",
    "other",
    "puzzle-001",
    "You have 12 coins; one is counterfeit and is either heavier or lighter. With a balance scale and only 3 "
    "weighings, find the counterfeit and tell whether it is heavier or lighter. Give the full strategy.",
)
T(
    "deep",
    "other",
    "puzzle-002",
    "Solve this sudoku:\n"
    "53..7....\n6..195...\n.98....6.\n8...6...3\n4..8.3..1\n7...2...6\n.6....28.\n...419..5\n....8..79",
)
T(
    "deep",
    "other",
    "puzzle-003",
    "Five houses in a row, each a different colour, with owners of different nationalities, pets, drinks and "
    "cars. The Brit lives in the red house. The Swede keeps dogs. The Dane drinks tea. The green house is just "
    "left of the white one. The green house's owner drinks coffee. The Toyota driver keeps birds. The yellow "
    "house's owner drives a Ford. The middle house drinks milk. The Norwegian lives in the first house. The "
    "Honda driver lives next to the cat owner. The horse owner lives next to the Ford driver. The BMW driver "
    "drinks beer. The German drives a Tesla. The Norwegian lives next to the blue house. The Honda driver's "
    "neighbour drinks water. Who owns the fish?",
)
T(
    "deep",
    "other",
    "puzzle-004",
    "Three gods A, B and C are called True, False and Random, in some order. True always speaks truly, False "
    "always falsely, Random randomly. Determine their identities with three yes/no questions, each put to one "
    "god, who answer in their own language with 'da' or 'ja' (you don't know which means yes).",
)
T(
    "deep",
    "other",
    "puzzle-005",
    "How many ways can you place 10 non-attacking queens on a 10x10 board? Explain how you'd count them and "
    "verify the number.",
)
T(
    "deep",
    "code",
    "hardcode-001",
    "Implement a lock-free multi-producer multi-consumer queue in C++ and prove it is linearizable and free of "
    "the ABA problem.",
)
T(
    "deep",
    "code",
    "hardcode-002",
    "Write a Raft implementation's log replication and leader election in Go, and argue why it preserves the "
    "log matching and leader completeness properties under network partitions.",
)
# multilingual deep
T("deep", "math", "ml-deep-es-1", "Demuestra que hay infinitos números primos.")
T("deep", "math", "ml-deep-fr-1", "Montrez que racine de 2 est irrationnel.")
T("deep", "math", "ml-deep-de-1", "Beweise, dass es unendlich viele Primzahlen gibt.")
T("deep", "math", "ml-deep-zh-1", "证明：对任意正整数n，n^5 - n 能被30整除。")
T("deep", "math", "ml-deep-ja-1", "任意の正の整数 n に対して、n^3 - n が 6 で割り切れることを証明せよ。")
T("deep", "math", "ml-deep-ru-1", "Докажите, что число √3 иррационально.")
T("deep", "math", "ml-deep-pt-1", "Prove que existem infinitos primos da forma 6k+5.")
T(
    "deep",
    "analysis",
    "ml-deep-de-2",
    "Entwirf eine global verteilte Datenbank mit starker Konsistenz: RPO = 0, Ausfall einer Region ohne "
    "Datenverlust, p99-Schreiblatenz unter 50 ms, 100k Schreibvorgänge pro Sekunde und Datenhaltung in der EU.",
)
# multi-turn deep
M(
    "deep",
    "math",
    "mt-deep-001",
    [
        u("Find all integer solutions of x^2 - 2y^2 = 1."),
        a("The solutions are (x, y) = (±x_k, ±y_k) where x_k + y_k*sqrt(2) = (3 + 2*sqrt(2))^k..."),
        u("now prove there are no others"),
    ],
)
M(
    "deep",
    "math",
    "mt-deep-002",
    [
        u(
            "Let a_n be the number of tilings of a 2 x n board with dominoes and L-trominoes. Find a recurrence and prove it."
        ),
        a("a_n = 2 a_{n-1} + a_{n-3}, with a_0 = 1, a_1 = 1, a_2 = 2. Proof: consider the rightmost column..."),
        u("and what's a_n mod 1e9+7 for n = 10^18? how would you compute it and why is it correct?"),
    ],
    note="follow-up on a deep thread",
)
M(
    "deep",
    "analysis",
    "mt-deep-003",
    [
        u("Design a multi-region strongly consistent key-value store with RPO 0."),
        a("Use a consensus group per shard spanning three regions (Raft or Multi-Paxos)..."),
        u(
            "ok, and how does it behave if two regions are partitioned from the third during a leader change? "
            "walk through every case"
        ),
    ],
)
# long deep
T(
    "deep",
    "math",
    "long-deep-001",
    m.FAKE_LEMMA
    + "\n\nIs this proof of Lemma 3 correct? If not, find the gap, decide whether the lemma is even true, and "
    "give a correct proof or a counterexample.",
)
M(
    "deep",
    "math",
    "mm-deep-001",
    [
        u(
            [
                txt("Prove the inequality shown in the image for all positive reals."),
                img("https://example.com/inequality.png"),
            ]
        )
    ],
)
