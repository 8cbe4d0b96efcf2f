"""Word patterns for the signals: requests for a person, ways to reach support, frustration cues.

Customer text is full of typos ("somenoe", "huamn", "reprsentative"), so each token is first mapped
onto the keyword it most plausibly misspells (one edit for short words, two for long ones) before
the patterns run. Patterns say *why* a score is what it is; the embedding models in
``handoff.models`` catch the wordings no pattern foresaw.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data")

KEYWORDS = (
    "human",
    "person",
    "people",
    "someone",
    "somebody",
    "anyone",
    "anybody",
    "agent",
    "agents",
    "operator",
    "representative",
    "representatives",
    "staff",
    "employee",
    "manager",
    "supervisor",
    "associate",
    "advisor",
    "real",
    "live",
    "actual",
    "talk",
    "speak",
    "chat",
    "contact",
    "connect",
    "transfer",
    "customer",
    "service",
    "support",
    "assistance",
    "assistant",
    "phone",
    "number",
    "callback",
    "please",
    "useless",
    "ridiculous",
    "complaint",
    "complain",
    "helpful",
    "helping",
    "terrible",
    "horrible",
    "pathetic",
    "unacceptable",
    "frustrated",
    "frustrating",
    "annoying",
    "annoyed",
    "disappointed",
    "disappointing",
    "pointless",
    "hopeless",
    "seriously",
    "already",
    "answer",
    "understand",
    "robot",
    "machine",
    "automated",
    "someone's",
    "talking",
    "speaking",
    "chatting",
    "contacting",
)
SHORTHANDS = {
    "pls": "please",
    "plz": "please",
    "plse": "please",
    "pleas": "please",
    "u": "you",
    "ur": "your",
    "r": "are",
    "2": "to",
    "ppl": "people",
    "rep": "representative",
    "reps": "representatives",
    "sb": "somebody",
    "smb": "somebody",
    "sm1": "someone",
    "some1": "someone",
    "sum1": "someone",
    "ya": "you",
    "wanna": "want to",
    "gotta": "got to",
    "cant": "can't",
    "dont": "don't",
    "doesnt": "doesn't",
    "didnt": "didn't",
    "isnt": "isn't",
    "wont": "won't",
    "im": "i'm",
    "ive": "i've",
    "youre": "you're",
    "thats": "that's",
    "cs": "customer service",
    "cust": "customer",
    "svc": "service",
    "ppl's": "people's",
    "convo": "conversation",
    "asap": "as soon as possible",
    "bot's": "bot is",
}
TOKEN = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")

QUALIFIER = (
    r"(?:(?:a|an|the|some|your|one of your|any|real|live|actual|human|another|proper|"
    r"customer service|customer support|support|service|sales|billing|tech|technical|"
    r"fucking|freaking|damn|goddamn|bloody|effing) )*"
)
STAFF = (
    r"(?:human(?: being)?s?|agents?|operators?|representatives?|staff(?: member)?|employees?|"
    r"managers?|supervisors?|associates?|advisors?|team member|member of (?:staff|your team)|"
    r"real (?:person|people)|live (?:person|people)|actual (?:person|people))"
)
ANYONE = r"(?:person|people|someone|somebody|anyone|anybody|individual|guy|lady|assistants?)"
TALK = (
    r"(?:talk|talking|talked|speak|speaking|chat|chatting|connect|connected|connecting|transfer|"
    r"transferred|put|get|getting|reach|reaching|contact|contacting|call|message|escalate|pass|"
    r"hand|forward|deal with|be helped by)(?: me| this| it)?"
    r"(?: (?:to|with|through to|through|over to|onto|on to|in touch with))?"
)
WANT = r"(?:need|want|give me|get me|have|see|like|prefer|request|requesting|ask for|asking for)"
HUMAN_REQUEST = re.compile(
    "|".join(
        (
            rf"\b{TALK} {QUALIFIER}(?:{STAFF}|{ANYONE})\b",
            rf"\b{WANT} (?:to (?:talk|speak|chat) (?:to|with) )?{QUALIFIER}{STAFF}\b",
            rf"^{QUALIFIER}(?:{STAFF}|{ANYONE}|live chat|live "
            rf"support)(?: (?:please|now|asap|as soon as possible|"
            rf"here|needed))*[ !?.]*$",
            rf"\b(?:is|are) (?:there|you) (?:a |an |any )?(?:real "
            rf"|live |actual )?(?:{STAFF}|{ANYONE}|real|human)\b",
            r"\b(?:are you|is this|am i talking to|am i chatting "
            r"with) (?:a |an |just a )?(?:bot|robot|machine|ai|"
            r"computer|automated)\b",
            r"\b(?:call|phone|ring) me(?: back)?\b|\bcall ?back\b|\b(?:give|have) me a (?:call|ring)\b",
            r"\b(?:no|not|stop|enough|done with|tired of|hate|"
            r"don't want|do not want)(?: (?:the|this|a|an|talking to|"
            r"chatting with|more))* (?:bot|robot|machine|automated (?:system|assistant|replies)|ai)s?\b",
            r"\b(?:real|live|actual) (?:human|person|people|agent|operator|support)\b",
            r"\bescalate (?:this|my|it)\b",
        )
    )
)
CONTACT_REQUEST = re.compile(
    "|".join(
        (
            r"\b(?:contact|reach|call|phone|email|e-mail|speak "
            r"(?:to|with)|talk (?:to|with)|get in touch with|"
            r"write to|message|chat with|get hold of|get ahold of) (?:your |the |a )?(?:customer |client )?"
            r"(?:service|support|care|assistance|help ?desk|helpline|team|company|you guys)\b",
            r"\b(?:customer|client) (?:service|support|care|assistance)\b",
            r"\b(?:support|service) (?:phone|number|email|e-mail|address|hours|line|details|info)\b",
            r"\byour (?:phone|contact|telephone) (?:number|details|info)\b|\bcontact (?:form|you)\b",
            r"\b(?:hotline|helpline|help desk)\b",
            r"\bhow (?:can|do|could) i (?:contact|reach) you\b",
        )
    )
)
NEGATED_REQUEST = re.compile(
    r"\b(?:don't|do not|no need to|not|never) (?:need|want|have)(?: to)?"
    r"(?: (?:talk|speak|chat))?(?: (?:to|with))?"
    r" (?:a |an )?(?:human|person|agent|operator|representative|someone)\b"
)

UNHELPFUL = re.compile(
    "|".join(
        (
            r"\b(?:that|this|it|you|your (?:answer|reply|bot|"
            r"system)|the (?:answer|bot|link|article))(?:'s| is| are|"
            r"'re| was| were| did| does| do|n't|)? ?(?:not|n't|never|no)(?: really| even| at all)? "
            r"(?:help|helping|helpful|working|work|useful|"
            r"answer(?:ing)?|make sense|what i (?:asked|meant|need|want))",
            r"\b(?:didn't|doesn't|don't|did not|does not|do not|"
            r"isn't|wasn't|aren't) (?:help|work|answer|make sense|"
            r"helpful|working|useful|understand|listen|get it)",
            r"\b(?:not|never) what i (?:asked|meant|said|wanted|need)\b",
            r"\b(?:useless|pointless|hopeless|ridiculous|pathetic|unacceptable|absurd|outrageous|incompetent|"
            r"a joke|waste of (?:my )?time|wasting (?:my )?time|terrible|horrible|awful|worst|disgusting|"
            r"disgraceful|shameful|appalling|unbelievable|fed up|sick of|tired of|had enough|"
            r"going in circles|runaround|run around)\b",
            r"\b(?:how many (?:more )?times|i (?:already|just) (?:told|said|asked|gave|explained)|"
            r"(?:asked|told you|said) (?:this|that|it) (?:already|before|twice)|for the (?:\w+ )?time|"
            r"still (?:not|no|nothing|waiting|hasn't|haven't|isn't|doesn't|don't|broken))\b",
            r"\b(?:frustrat\w*|annoy\w*|angry|furious|livid|pissed|upset|disappointed|disappointing|"
            r"dissatisfied|unhappy|not happy|fuming|infuriat\w*)\b",
            r"\b(?:you (?:people|guys) (?:are|suck)|stupid (?:bot|"
            r"machine|robot|system|app)|you (?:don't|do not) "
            r"(?:understand|get it|listen))\b",
        )
    )
)
COMPLAINT = re.compile(
    r"\b(?:complain\w*|complaint|grievance|reclamation|claim against|(?:customer|consumer) claim|"
    r"lodge a claim|report (?:you|your company)|"
    r"lawyer|legal action|sue you|chargeback|dispute (?:the|this|a) (?:charge|payment))\b"
)
SHOUT_WORD = re.compile(r"\b[A-Z]{3,}\b")
NOT_SHOUTING = frozenset(
    (
        "USA",
        "UK",
        "EU",
        "ID",
        "PIN",
        "SMS",
        "URL",
        "FAQ",
        "API",
        "PDF",
        "VAT",
        "ETA",
        "CEO",
        "ASAP",
        "TV",
        "OK",
        "DHL",
        "UPS",
        "USPS",
        "FEDEX",
        "IBAN",
        "IOS",
        "PC",
        "USB",
        "GPS",
        "LOL",
        "BTW",
        "FYI",
        "AM",
        "PM",
        "EST",
        "PST",
        "GMT",
        "UTC",
        "NYC",
    )
)
PLACEHOLDER = re.compile(r"\[[A-Z_ ]+\]|\{\{[^{}]*\}\}")
EXCLAIM = re.compile(r"[!?]*![!?]+|\?{3,}")


@lru_cache(maxsize=1)
def profanity() -> frozenset[str]:
    """The shipped list (``data/profanity.txt``): whole words, lower case."""
    words = (line.strip().lower() for line in (DATA / "profanity.txt").read_text().splitlines())
    return frozenset(word for word in words if word and not word.startswith("#"))


def canonical(text: str) -> str:
    """Lower case, shorthands expanded, each token snapped to the keyword it misspells, if any."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    out: list[str] = []
    for token in TOKEN.findall(text):
        token = SHORTHANDS.get(token, token)
        out.append(_snap(token))
    return re.sub(r" ([^\sa-z0-9'])", r"\1", " ".join(out))


@lru_cache(maxsize=50_000)
def _snap(token: str) -> str:
    if token in _KEYWORD_SET or token in REAL_WORDS or not token.isalpha() or len(token) < 4:
        return token
    if len(token) == 4:  # short words: only two swapped letters ("tlak"), anything more is a real word
        return next((k for k in KEYWORDS if len(k) == 4 and sorted(k) == sorted(token)
                     and _edits(token, k, 1) == 1), token)
    limit = 1 if len(token) < 8 else 2
    best, best_distance = token, limit + 1
    for keyword in KEYWORDS:
        if abs(len(keyword) - len(token)) > limit or keyword[0] != token[0] and keyword[-1] != token[-1]:
            continue
        distance = _edits(token, keyword, limit)
        if distance < best_distance:
            best, best_distance = keyword, distance
    return best


_KEYWORD_SET = frozenset(KEYWORDS)
# Real words one edit away from a keyword: never "corrected".
REAL_WORDS = frozenset(
    (
        "contract",
        "contracts",
        "chart",
        "charts",
        "parson",
        "really",
        "reals",
        "persona",
        "humane",
        "humans",
        "agency",
        "servile",
        "numbed",
        "phoney",
        "phoned",
        "phones",
        "staffs",
        "answers",
        "robots",
        "chats",
        "talks",
        "supports",
        "peoples",
    )
)


def _edits(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count once), stopping early past ``limit``."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def human_request(text: str) -> str | None:
    """The words that ask for a person, or None."""
    if NEGATED_REQUEST.search(text):
        return None
    match = HUMAN_REQUEST.search(text)
    return match.group(0).strip() if match else None


def contact_request(text: str) -> str | None:
    """The words that ask how to reach support (an offer, not an escalation), or None."""
    match = CONTACT_REQUEST.search(text)
    return match.group(0).strip() if match else None


def frustration_cues(raw: str, text: str) -> list[str]:
    """Readable cues of frustration in ``raw`` (as typed) and ``text`` (its ``canonical`` form)."""
    cues: list[str] = []
    swear = sorted({word for word in re.findall(r"[a-z*]+", text) if word in profanity()})
    if swear:
        cues.append("profanity: " + ", ".join(swear))
    for pattern, label in ((UNHELPFUL, "says"), (COMPLAINT, "complaint")):
        found = pattern.search(text)
        if found:
            cues.append(f'{label}: "{found.group(0)}"')
    plain = PLACEHOLDER.sub(" ", raw)
    shouted = [word for word in SHOUT_WORD.findall(plain) if word not in NOT_SHOUTING]
    letters = [char for char in plain if char.isalpha()]
    upper = sum(char.isupper() for char in letters)
    if (len(shouted) >= 3 and upper > 0.4 * len(letters)) or (
        len(letters) >= 8 and upper > 0.7 * len(letters)
    ):
        cues.append("shouting: " + " ".join(shouted[:4]))
    if EXCLAIM.search(raw):
        cues.append("repeated punctuation")
    return cues


PHATIC = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|yo|good (?:morning|afternoon|evening)|thanks?|thank you|thx|ty|cheers|ok|okay|"
    r"k|kk|alright|all right|sure|yes|yeah|yep|yup|no|nope|nah|great|perfect|cool|nice|awesome|fine|got it|"
    r"i see|understood|bye|goodbye|see you|that's all|that is all|nothing else|no thanks|no thank you|"
    r"you too|sounds good|will do|done|right|correct|exactly|please|so much|a lot|very much|again|"
    r"for (?:your|the) help|that (?:helps|helped|works|worked)(?: for me)?|have a (?:nice|good|great) day|"
    r"nothing|not (?:right )?now|that's ok|that is ok|i appreciate it|for everything|i don't|i do not|"
    r"maybe later|not yet)[ ,.!:)]*)+$"
)


def phatic(text: str) -> bool:
    """Greetings, thanks and yes/no: no question for the knowledge base to answer."""
    return bool(PHATIC.match(text.strip()))


APOLOGY = re.compile(r"\b(?:sorry|apologies|apologise|apologize|excuse me|pardon)\b")


def apologetic(text: str) -> bool:
    """The visitor apologises ("sorry to bother you again"): politeness, not anger."""
    return bool(APOLOGY.search(text))


ACK = re.compile(
    r"\b(?:thanks?|thank you|thx|ty|cheers|ok|okay|got it|great|brilliant|perfect|lovely|worked|works|"
    r"fair enough|that's it|that is it|that's all|nice|awesome|cool|will do|i'll wait|no worries|all good|"
    r"sorted|done|yes|yep|yeah|nope|no|found it|makes sense|good to know)\b"
)


def acknowledgement(text: str) -> bool:
    """Thanks, "ok fair enough, i'll wait", "yep worked now": the visitor closes or confirms and asks
    nothing; at most four other words around the acknowledgement, and no question mark."""
    if phatic(text):
        return True
    if "?" in text or not ACK.search(text):
        return False
    return len(re.findall(r"[a-z0-9']+", ACK.sub(" ", text))) <= 4
