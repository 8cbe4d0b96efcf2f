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

from wordfreq import zipf_frequency

from knowledge.spelling import COMMON_ZIPF, Speller

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
    "helpline",
    "hotline",
    "executive",
    "executives",
    "specialist",
    "escalate",
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
# A word is letters of any alphabet ("möchte" is one token, not "m", "ö", "chte"); anything else
# that is not space is a token of its own.
TOKEN = re.compile(r"(?:[^\W_]|')+|[^\s\w']|_")

# Words of praise: "you guys are great" praises, it opens no complaint (AT_SERVICE, COMPLIMENT).
PRAISE = r"great|amazing|awesome|brilliant|fantastic|wonderful|lovely|best|stars|legends"
QUALIFIER = (
    r"(?:(?:a|an|the|some|your|one of your|any|real|live|actual|human|another|proper|"
    r"customer service|customer support|support|service|sales|billing|tech|technical|"
    r"fucking|freaking|damn|goddamn|bloody|effing) )*"
)
STAFF = (
    r"(?:human(?: being)?s?|agents?|operators?|representatives?|staff(?: member)?|employees?|"
    r"managers?|supervisors?|boss(?:es)?|associates?|advisors?|executives?|specialists?|team member|"
    r"member of (?:staff|your team)|"
    r"real (?:person|people)|live (?:person|people)|actual (?:person|people))"
)
# A staff word that qualifies a thing ("staff discount", "agent fees", "human resources", "a human
# size guide") names no person to talk to.
NOT_QUALIFYING = (r"(?!'| (?:discounts?|pricing|prices?|rates?|deals?|offers?|sales?|fees?|commissions?|"
                  r"portal|logins?|accounts?|access|benefits?|perks?|ids?|badges?|cards?|codes?|training|programmes?|"
                  r"programs?|only|shop|store|picks?|reviews?|uniforms?|parking|purchases?|resources|rights|"
                  r"race|nature|life|lives|condition|body|bodies|errors?|history|sizes?|sized|hair)\b)")
ANYONE = r"(?:person|people|someone|somebody|anyone|anybody|individual|guy|lady|assistants?|colleagues?)"
# "talking", "speaking" and "chatting" take their preposition ("talking to someone"); without one
# they qualify ("talking people getting up from the grave").
_TALK_TO = r"(?: (?:to|with|through to|through|over to|onto|on to|in touch with))"
TALK = (
    r"(?:(?:talk|speak|chat|complain|connect|connected|connecting|transfer|transferred|put|get|getting|"
    r"reach|reaching|contact|contacting|call|message|escalate|pass|hand|forward)(?: me| this| it)?"
    rf"{_TALK_TO}?|(?:talking|talked|speaking|chatting)(?: me| this| it)?{_TALK_TO}|deal with|be helped by)"
)
# What a person is asked to look at: the visitor's case with this company, not their car or garden.
LOOK_AT = (
    r"(?:(?:look|check|review|handle|sort|deal|fix|go over)(?: at| into| out| with)? (?:this|it|my "
    r"(?:account|billing|bill|case|order|issue|problem|ticket|refund|payment|request|claim|complaint|application|"
    r"booking|subscription))\b|(?:call|contact|get back to) me\b)"
)
WANT = (r"(?:need|want|give me|get me|have|see|(?:would|'d) like|prefer|request|requesting|ask for|"
        r"asking for|demand|demanding|insist on)")
# A part of the company a visitor asks to be put through to ("put me through to sales").
DEPARTMENT = (
    r"(?:your |the |a |an )?(?:right |relevant |correct |appropriate |other |another |different )?"
    r"(?:sales|billing|support|accounts?|returns|complaints?|customer (?:service|care|support|relations)|"
    r"tech(?:nical)? support|team|department|desk)"
)
# The same requests in the other languages the knowledge base's spelling reads (es, fr, de, pt, it,
# nl: ``knowledge.spelling``), on the canonical form, where "agente", "humain" and "operatore" read as
# "agent", "human" and "operator". A visitor who writes to an English bot in their own language and
# asks for a person is honoured as one who asks in English. Kept apart from the English patterns so
# that their words never become typo corrections (``_pattern_speller``: "coms" is not "com").
PERSON_ABROAD = (
    r"(?:persona|personne|pessoa|person|human[oa]?|humain|agente?s?|agent|"
    r"operat(?:or|ore|ori|rice|eur|euse)|operador[a]?|asesor[a]?|representante|ejecutiv[oa]|encargad[oa]|conseill(?:er|ère|ere)|"
    r"interlocut(?:eur|rice)|responsable|atendente|consul(?:tor[a]?|ente)|gerente|assistente|"
    r"mitarbeiter(?:in)?|menschen|mensch|berater(?:in)?|kundenberater(?:in)?|sachbearbeiter(?:in)?|"
    r"medewerker|mens|persoon|supervisor[a]?|alguien|quelqu'un|jemandem|jemand|alguém|qualcuno|iemand)"
)
# Staff named alone ("un asesor por favor"); not "mens" or "la persona", which can mean other things.
STAFF_ABROAD = (
    r"(?:agente?|operat(?:or|ore|ori|rice|eur|euse)|operador[a]?|asesor[a]?|representante|"
    r"conseill(?:er|ère|ere)|atendente|mitarbeiter(?:in)?|kundenberater(?:in)?|berater(?:in)?|"
    r"medewerker|human[oa]?|humain)"
)
ARTICLE_ABROAD = r"(?:(?:un|una|une|um|uma|el|la|le|il|o|a|ein|einem|einer|einen|eine|een|de|dem|der) )?"
REAL_ABROAD = r"(?:(?:vrai|vraie|real|echten|richtigen|echte|vero|vera|verdadeir[oa]|de verdad) )?"
HUMAN_REQUEST_ABROAD = re.compile(
    "|".join(
        (
            # "hablar con una persona", "falar com um atendente", "parler à un conseiller",
            # "parlare con un operatore", "spreken met een medewerker"
            rf"\b(?:hablar|hablo|comunicar(?:me)?|chatear|contactar|falar|conversar|parler|discuter|"
            rf"joindre|parlare|chattare|spreken|praten|chatten|bellen) (?:con|com|à|a|avec|met) "
            rf"{ARTICLE_ABROAD}{REAL_ABROAD}{PERSON_ABROAD}\b",
            # the verb last: "mit einem Mitarbeiter sprechen", "met een medewerker praten"
            rf"\b(?:mit|met) {ARTICLE_ABROAD}{REAL_ABROAD}{PERSON_ABROAD} (?:\w+ ){{0,3}}?"
            rf"(?:sprechen|reden|chatten|verbunden|verbinden|telefonieren|spreken|praten|bellen)\b",
            # "quiero un agente", "je voudrais un conseiller", "ich brauche einen Mitarbeiter"
            rf"\b(?:quiero|necesito|quisiera|deseo|quero|preciso de|gostaria de|je veux|je voudrais|"
            rf"je souhaite|möchte|brauche|will|hätte gerne?|voglio|vorrei|ik wil|ik wil graag) "
            rf"{ARTICLE_ABROAD}{REAL_ABROAD}(?:persona|personne|pessoa|human[oa]?|humain|agente?|agent|"
            rf"operat\w+|asesor[a]?|representante|conseill\w+|atendente|mitarbeiter\w*|menschen|"
            rf"berater\w*|kundenberater\w*|medewerker|iemand spreken)\b",
            # "pásame con", "transfiéreme", "verbinden Sie mich", "passez-moi un conseiller"
            r"\b(?:p[aá]same|comun[ií]queme|transfi[eé]reme|con[eé]cteme|passez-? ?moi|"
            r"verbinden sie mich|verbind me door|me passa|mi passi)\b",
            # the human form of service: "atención humana", "atendimento humano", "assistenza umana"
            r"\b(?:atenci[oó]n|atendimento|assistenza|assistance|service|servicio) "
            r"(?:human[oa]?|humaine|umana|personalizad[oa])\b",
            # staff named alone, with "please": "un asesor por favor", "Mitarbeiter bitte"
            rf"^{ARTICLE_ABROAD}{REAL_ABROAD}{STAFF_ABROAD}(?: (?:por favor|porfa|s'il vous plaît|"
            rf"s'il vous plait|svp|stp|bitte|per favore|alstublieft|aub|graag))?[ !?.]*$",
        )
    )
)
# Asking how to reach support in those languages: "atención al cliente", "Kundenservice".
CONTACT_REQUEST_ABROAD = re.compile(
    r"\b(?:atenci[oó]n al cliente|servicio al cliente|service client(?:èle|ele)?|kundenservice|"
    r"kundendienst|kundensupport|atendimento ao cliente|servizio clienti|assistenza clienti|"
    r"klantenservice|n[uú]mero de (?:tel[eé]fono|telefone|contacto|contato)|num[ée]ro de t[ée]l[ée]phone|"
    r"telefonnummer|numero di telefono|telefoonnummer)\b"
)
HUMAN_REQUEST = re.compile(
    "|".join(
        (
            rf"\b{TALK} {QUALIFIER}(?:{STAFF}\b{NOT_QUALIFYING}|{ANYONE}\b(?!'))",
            rf"\b{WANT} (?:to (?:talk|speak|chat) (?:to|with) )?{QUALIFIER}{STAFF}\b{NOT_QUALIFYING}",
            # "I want a person", "can I have someone", "give me a human please": the request ends there
            # (not "I need someone to fix my car", "I want someone who knows gardens")
            r"\b(?:need|want|give me|get me|(?:can|could|may) (?:i|we) (?:have|get|see)|(?:would|'d) like|"
            r"request|ask for|asking for|demand|insist on) "
            rf"(?:a |an |some |one |the )?(?:real |live |actual |human )?{ANYONE}"
            r"(?: (?:please|now|asap|right now|here|to (?:talk|speak|chat) (?:to|with)))*"
            r"(?= *(?:[,.;:!?]|$))",
            rf"^{QUALIFIER}(?:{STAFF}|{ANYONE}|live ?chat|live "
            rf"support|human (?:support|help|assistance))(?: (?:please|now|asap|as soon as possible|"
            rf"here|needed))*[ !?.]*$",
            rf"\b(?:is|are) (?:there|you) (?:a |an |any )?(?:real "
            rf"|live |actual )?(?:{STAFF}|{ANYONE}|real|human)\b(?! else){NOT_QUALIFYING}",
            r"\b(?:are you|is this|am i talking to|am i chatting "
            r"with) (?:a |an |just a )?(?:bot|robot|machine|ai|"
            r"computer|automated)\b",
            # "call me back", "please call me", not "call me an uber"
            r"\b(?:call|phone|ring) me (?:back|now|asap|please|as soon as possible|at|on|when|tomorrow|today|"
            r"later|urgently|instead)\b|\b(?:call|phone|ring) me[ !.?]*$|\bcall ?back\b|"
            r"\b(?:give|have) me a (?:call|ring)\b",
            r"\b(?:no|not|stop|enough|done with|tired of|hate|"
            r"don't want|do not want)(?: (?:the|this|a|an|talking to|"
            r"chatting with|more))* (?:bot|robot|machine|automated (?:system|assistant|replies)|ai)s?\b",
            # "escalate this", "I want to escalate", "can you escalate" (not "I don't want to escalate":
            # NEGATED_REQUEST)
            r"\bescalate (?:this|my|it)\b|\b(?:want|need|'d like|would like|please|can you|could you) "
            r"(?:to )?escalate\b",
            rf"\b(?:need|want|get|have|like|send) (?:a |an |some |one |the )?(?:{ANYONE}|{STAFF}) "
            rf"(?:to|who can|that can) {LOOK_AT}",
            rf"\bcan (?:a |an |some |one of your |the )?(?:{ANYONE}|{STAFF}) (?:please )?{LOOK_AT}",
            # "can a human help me", "could an agent help": a person named, not "can someone help me find"
            rf"\b(?:can|could|will|would) (?:a |an |one of your |the |some |any )?(?:real |live |actual )?"
            rf"{STAFF} (?:please )?help\b",
            rf"\b(?:put|transfer|connect|pass|forward|send) me (?:through |over |on )?(?:to|with) "
            rf"{DEPARTMENT}\b",
            r"\b(?:someone|somebody|anyone|the person|a person|whoever(?: is)?) in charge\b",
            r"\bwho (?:can|could) i (?:talk|speak|chat) (?:to|with)\b",
            r"^(?:please |pls |can |could )?(?:someone|somebody|anyone|anybody|a human|a person) (?:please )?"
            r"help(?: me)?(?: please| now| asap)?[ !?.]*$",
            r"\bget me (?:off|away from|out of) (?:this|the) (?:bot|robot|machine|chat ?bot|"
            r"automated (?:system|chat))\b",
            r"\b(?:someone|somebody|anyone|a person|a human) (?:from|in|at) (?:your |the )?(?:team|billing|"
            r"support|customer (?:service|care|support)|sales|accounts|the company)\b",
            r"^(?:please |pls |can you |could you )?(?:transfer me|escalate(?: this| it| me)?|"
            r"connect me)(?: please| now| to (?:support|someone))?[ !.?]*$",
            r"\bconnect me (?:to|with) (?:your |the |a )?(?:support|team|someone|somebody|customer (?:care|"
            r"service|support))\b",
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
            r"\b(?:phone|telephone|contact|helpline) (?:number|no|details|info|email|e-mail|address) "
            r"(?:for|of|to reach) (?:your |the )?(?:customer |client )?"
            r"(?:support|service|care|help ?desk|team|company)\b",
            r"\b(?:hotline|helpline|help ?line|help desk|call cent(?:er|re)|toll[ -]free)\b",
            # "give me contact number", not "what's their contact number" (a place the bot found)
            r"(?<!my )(?<!our )(?<!their )(?<!its )(?<!it's )(?<!his )(?<!her )(?<!the )(?<!that )"
            r"\b(?:contact|support|care|office|company|your) (?:phone |telephone |mobile )?"
            r"(?:number|no|details|info|email|e-mail)\b",
            r"\b(?:customer|client) care\b|^(?:support|support team|customer support)[ !.?]*$",
            r"\bhow (?:can|do|could) i (?:contact|reach) you\b",
        )
    )
)
NEGATED_REQUEST = re.compile(
    r"\b(?:don't|do not|no need to|not|never) (?:need|want|have)(?: to)?"
    r"(?: (?:talk|speak|chat))?(?: (?:to|with))?"
    r" (?:a |an )?(?:human|person|agent|operator|representative|someone)\b"
    r"|\b(?:don't|do not|no need to|not|never) (?:need|want)(?: to)? escalate\b"
    # "no quiero hablar con", "je ne veux pas parler", "ich möchte nicht mit", "não quero falar"
    r"|\b(?:no|não|nao|non) (?:quiero|necesito|quero|preciso|voglio|ho bisogno)\b"
    r"|\bne (?:veux|voudrais) pas\b|\b(?:möchte|will|brauche) (?:nicht|keinen|keine)\b|\bwil (?:niet|geen)\b"
)

# What a visitor says of the bot's answers or the service itself: frustration wherever it appears.
AT_SERVICE = re.compile(
    "|".join(
        (
            r"\b(?:that|this|you|your (?:answer|reply|bot|"
            r"system)|the (?:answer|bot|link|article))(?:'s| is| are|"
            r"'re| was| were| did| does| do|n't|)? ?(?:not|n't|never|no)(?: really| even| at all)? "
            r"(?:help|helping|helpful|useful|address(?:es|ing)?|solve|resolve|"
            r"answer(?:ing)?|make sense|what i (?:asked|meant|need|want))",
            r"\b(?:not|never) what i (?:asked|meant|said|wanted|need)\b",
            r"\b(?:useless|pointless|hopeless|unacceptable|incompetent|wasting (?:my )?time|"
            r"going in circles|going nowhere|runaround|run around)\b",
            # the answer judged in a few words: "that makes no sense", "no that's wrong", "not helpful"
            r"\b(?:that|this|you|your answer|the answer|none of (?:this|that))(?: still| just)? "
            r"(?:makes?|made) (?:no|zero) sense\b",
            r"^(?:no[,.!]* )?(?:that's|that is|thats|this is|it's|its|your answer is|the answer is)"
            r"(?: just| completely| totally| still)? (?:wrong|incorrect|not (?:right|correct|true))[ !.?]*$",
            r"\b(?:wrong|incorrect) answer\b|^(?:not|no|nope|un)[ ,]*(?:very |really |at all )?"
            r"(?:helpful|useful)(?: at all)?[ !.?]*$",
            r"\byou keep (?:saying|repeating|telling me|sending|giving me) "
            r"(?:the same|that|this|me the same)\b|"
            r"\bsame (?:answer|reply|response) (?:again|twice|over and over)\b|"
            r"\byou (?:already|just) (?:said|told me) that\b",
            r"\byou(?:'re| are)(?: so| really| being| just)? (?:useless|terrible|horrible|awful|stupid|dumb|"
            r"annoying|hopeless|pathetic|ridiculous|the worst|no help)\b",
            # "you guys are useless", not "you guys are great"
            rf"\b(?:you (?:people|guys) (?:are(?! (?:so |really |very |just |the )?(?:{PRAISE}|helpful|kind|"
            r"quick|fast))|suck)|"
            r"stupid (?:bot|machine|robot|system|app)|you (?:don't|do not) (?:understand|get it|listen))\b",
        )
    )
)
# Something did not work, or the visitor has been through this before: a problem report on the first
# message ("my card isn't working"), frustration once the bot has answered or aimed at the service.
PERSISTING = re.compile(
    "|".join(
        (
            r"\b(?:it|that|this)(?:'s| is| was|n't|)? ?(?:not|n't|never)(?: really| even| at all)? "
            r"(?:working|work)\b",
            r"\b(?:didn't|doesn't|don't|did not|does not|do not|"
            r"isn't|wasn't|aren't) (?:help|work|answer|make sense|"
            r"helpful|working|useful|understand|listen|get it)",
            r"\b(?:how many (?:more )?times|i (?:already|just) (?:told|said|asked|gave|explained)|"
            r"(?:asked|told you|said) (?:this|that|it) (?:already|before|twice)|"
            r"for the (?:second|third|fourth|fifth|tenth|hundredth|nth|\d+(?:nd|rd|th)) time|"
            r"(?:second|third|fourth|fifth|sixth|tenth|\d+(?:nd|rd|th)) (?:message|e-?mail|mail|chat|call|"
            r"request|ticket|time) (?:about|regarding|on|for|with) (?:the same|this)|"
            r"still (?:not|no|nothing|waiting|hasn't|haven't|isn't|doesn't|don't|broken))\b",
            # chased and not answered: "the third time I've had to chase this", "nobody has replied"
            r"\b(?:second|third|fourth|fifth|sixth|tenth|\d+(?:nd|rd|th)) time "
            r"(?:i(?:'ve| have|'m| am)|that i|we(?:'ve| have|'re| are))\b|"
            r"\b(?:nobody|no one|no-one|noone) (?:has |have |ever )?(?:replied|answered|responded|got back|"
            r"called (?:me )?back|contacted me)\b|"
            r"\bnever (?:heard back|got a (?:reply|response|call back))\b|"
            r"\b(?:i was|we were) promised\b|\bnothing (?:has )?happened\b",
            # the answer's advice already followed: "I already tried that", "did that already"
            r"\bi(?:'ve| have)? already (?:tried|did|done)\b|\b(?:tried|did|done) (?:that|this|it) already\b|"
            r"\bi(?:'ve| have) tried (?:that|this|it|everything)\b",
        )
    )
)
# Feelings and harsh words: about the service when the message names it ("your service is terrible"),
# a taste otherwise ("that movie was awful", "I'm tired of Star Wars").
FEELING = re.compile(
    "|".join(
        (
            r"\b(?:terrible|horrible|awful|worst|disgusting|unbelievable|fed up|sick of|tired of|"
            r"had enough|ridiculous|pathetic|absurd|outrageous|a joke|waste of (?:my )?time|disgraceful|"
            r"shameful|appalling)\b",
            r"\b(?:frustrat\w*|annoy\w*|angry|furious|livid|pissed|upset|disappointed|disappointing|"
            r"dissatisfied|unhappy|not happy|fuming|infuriat\w*)\b",
            # the polite ones: "quite poor", "I expected better from you", "not good enough"
            r"\b(?:(?:quite|very|really|so|extremely|pretty|rather) poor|poor (?:service|quality|experience|"
            r"communication|support|response|handling)|(?:handled|treated|managed) (?:very |so )?poorly|"
            r"dreadful|shocking|rude|unimpressed|not impressed|let down|not good enough|"
            r"expected (?:better|more)|mistreated)\b",
            # the wait or the effort complained of: "my refund is taking forever", "why is it so hard to
            # get a refund from you"
            r"\btaking (?:forever|ages|so long|far too long|way too long)\b|"
            r"\bwhy is (?:it|this|everything) (?:so|this) (?:hard|difficult|complicated)\b",
        )
    )
)
UNHELPFUL = re.compile("|".join(f"(?:{p.pattern})" for p in (AT_SERVICE, PERSISTING, FEELING)))
# Words that make a message about the service, the bot or what the visitor is owed by it.
SERVICE_TARGET = re.compile(
    r"\b(?:bot|chatbot|robot|assistant|service|support|company|team|staff|app|website|"
    r"site|system|answers?|repl(?:y|ies)|responses?|chat|conversation|help|helping|order|orders|delivery|"
    r"deliveries|refund|refunds|account|payment|payments|charge|charged|charges|bill|billing|invoice|"
    r"subscription|package|parcel|shipment|transfer|money|complaint|ticket|claim)\b"
)
# A taste, not a grievance: "I don't like horror films", "not a fan of musicals", "I'd rather ...".
DISLIKE = re.compile(
    r"\b(?:i|we) (?:really |just |kind of |kinda |usually |generally )?(?:don't|do not|didn't|did not|"
    r"never|wouldn't|would not) (?:really |much |particularly )?(?:like|love|enjoy|care for|want|fancy|"
    r"watch|think i'(?:d|ll))\b"
    r"|\b(?:i|we) (?:hate|hated|dislike|disliked|prefer|preferred|can't stand|cannot stand)\b"
    r"|\bnot (?:really |much of |a big |too )?(?:a fan|into|my (?:thing|type|kind|cup of tea)|for me|"
    r"interested|fond of)\b|\b(?:i'd|i would) rather\b"
)
# The visitor waits on the bot: "are you still there?", "hello??", "anyone there?".
WAITING = re.compile(
    r"\b(?:are you|you) still (?:there|here|with me)\b|\b(?:is )?any(?:one|body) (?:there|here)\b"
    r"|^(?:hello|hi|hey)\s*\?+\s*$"
    r"|^\s*\?+\s*$"  # a bare "??" after an answer: the visitor is lost, or waits
)
COMPLAINT = re.compile(
    r"\b(?:complain\w*|complaint|grievance|reclamation|claim against|(?:customer|consumer) claim|"
    r"raise (?:a|my|an official|a formal) concern|formal concern|"
    r"lodge a claim|report (?:you|your company)|"
    r"(?:my|our|a) (?:lawyer|attorney)|legal action|sue you|chargeback|"
    r"dispute (?:the|this|a) (?:charge|payment))\b"
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


# Words of the profanity list that judge something rather than swear: about a film as often as
# about the service, so they count where the message is aimed at the service.
INSULTS = frozenset(
    ("idiot", "idiots", "idiotic", "moron", "morons", "moronic", "stupid", "dumb", "scam", "scammers",
     "scammed", "thieves", "crooks", "rip-off", "ripoff", "hell", "sucks", "sucked", "screw", "screwed",
     "crap", "crappy")
)


@lru_cache(maxsize=1)
def profanity() -> frozenset[str]:
    """The shipped list (``data/profanity.txt``): whole words, lower case."""
    words = (line.strip().lower() for line in (DATA / "profanity.txt").read_text().splitlines())
    return frozenset(word for word in words if word and not word.startswith("#"))


def canonical(text: str) -> str:
    """Lower case, shorthands expanded, each token snapped to the keyword it misspells, if any, or
    else corrected to the word of a pattern it misspells ("terible servise" -> "terrible service")."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    out: list[str] = []
    speller = _pattern_speller()
    for token in TOKEN.findall(text):
        token = SHORTHANDS.get(token, token)
        snapped = _snap(token)
        out.append(snapped if snapped != token else speller.word(token))
    return re.sub(r" ([^\s\w']|_)", r"\1", " ".join(out))


@lru_cache(maxsize=1)
def _pattern_speller() -> Speller:
    """Typos corrected toward the words the patterns are written in, the insults and the profanity
    list (``knowledge.spelling``: one edit, and never a word in common use, so "scan" stays "scan")."""
    patterns = (HUMAN_REQUEST, CONTACT_REQUEST, AT_SERVICE, PERSISTING, FEELING, SERVICE_TARGET, DISLIKE,
                WAITING, COMPLAINT)
    plain = (re.sub(r"\\[a-zA-Z]", " ", pattern.pattern) for pattern in patterns)  # regex escapes out
    words = [word for text in plain for word in re.findall(r"[a-z]+", text)]
    return Speller([*words, *INSULTS, *profanity()], frozenset())


@lru_cache(maxsize=50_000)
def _snap(token: str) -> str:
    if token in _KEYWORD_SET or token in REAL_WORDS or not token.isalpha() or len(token) < 4 or \
            zipf_frequency(token, "en") >= COMMON_ZIPF:
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
        # two edits and another first letter is another word ("plotline" is not "hotline"): typists
        # rarely get the first letter wrong, though they do run two words together ("tosomebody")
        if distance < best_distance and (distance < 2 or keyword[0] == token[0] or token.endswith(keyword)):
            best, best_distance = keyword, distance
    return best


_KEYWORD_SET = frozenset(KEYWORDS)
# A word in common English use (``wordfreq``: at least once per million words, as the knowledge
# base's speller reads it) is never a misspelt keyword: "taking", "walking" and "stalking" are one
# edit from "talking", "persons" from "person". The real words below that bar that are one edit from
# a keyword are listed.
REAL_WORDS = frozenset(("parson", "reals", "servile", "numbed", "phoney"))


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


# "real person" on its own asks for one only in a few words ("real human pls", "live support?");
# in a longer message it describes ("the character was a real person, not a comic book hero").
REAL_PERSON = re.compile(r"\b(?:real|live|actual) (?:human|person|people|agent|operator|support)\b")
REAL_PERSON_WORDS = 8


def human_request(text: str) -> str | None:
    """The words that ask for a person, or None."""
    if NEGATED_REQUEST.search(text):
        return None
    match = HUMAN_REQUEST.search(text) or HUMAN_REQUEST_ABROAD.search(text)
    if match is None and len(text.split()) <= REAL_PERSON_WORDS:
        match = REAL_PERSON.search(text)
    return match.group(0).strip() if match else None


# Whose number it is: "their address and contact number", "the clinic's contact number", "do they
# have a contact number" ask for a third party's details (a place the bot found), not support's.
THIRD_PARTY = re.compile(
    r"\b(?:their|its|his|her|they|them)\b|\b(?!(?:what|that|it|there|where|who|here|let|how|he|she)'s)\w+'s\b")
DETAILS = re.compile(r"\b(?:number|no|details|info|email|e-mail|address)\b")
THIRD_PARTY_WORDS = 5


def contact_request(text: str) -> str | None:
    """The words that ask how to reach support (an offer, not an escalation), or None."""
    match = CONTACT_REQUEST.search(text) or CONTACT_REQUEST_ABROAD.search(text)
    if match is None:
        return None
    before = re.split(r"[.!?;]", text[: match.start()])[-1].split()[-THIRD_PARTY_WORDS:]
    if DETAILS.search(match.group(0)) and THIRD_PARTY.search(" ".join(before)):
        return None
    return match.group(0).strip()


def frustration_cues(raw: str, text: str) -> list[str]:
    """Readable cues of frustration in ``raw`` (as typed) and ``text`` (its ``canonical`` form).

    Kinds: ``profanity`` (swearing), ``insult`` (words that judge: "stupid", "scam"), ``says``
    (about the bot or the service), ``persisting`` (it still does not work, "I already told you"),
    ``feeling`` (angry words, harsh judgements), ``complaint``, ``waiting`` (the visitor waits on
    the bot), ``shouting``, ``repeated punctuation``. Whether a
    cue is aimed at the service is the signal's call (``service_target``, ``dislike``).
    """
    cues: list[str] = []
    words = {word for word in re.findall(r"[a-z*-]+", text) if word in profanity()} - named_words(raw)
    swear, insults = sorted(words - INSULTS), sorted(words & INSULTS)
    if swear:
        cues.append("profanity: " + ", ".join(swear))
    if insults:
        cues.append("insult: " + ", ".join(insults))
    for pattern, label in (
        (AT_SERVICE, "says"),
        (PERSISTING, "persisting"),
        (FEELING, "feeling"),
        (COMPLAINT, "complaint"),
        (WAITING, "waiting"),
    ):
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


# A film's or a book's title, or a name, is no swearing: "Fun with Dick and Jane", Moby Dick, "The Blair
# Bitch Project", Jackass 2. A title is quoted and mostly capitalised; a name is a capitalised word
# inside a sentence next to another capitalised word or followed by a number. A capitalised swear word
# alone ("you Fucking troll"), or quoted speech ("wtf", "Fuck yeah!"), is still swearing.
QUOTED = re.compile(r"[\"\u201c]([^\"\u201c\u201d]{1,80})[\"\u201d]")
RAW_WORD = re.compile(r"[A-Za-z][A-Za-z'*-]*|\d+|[.!?,;:]")
TITLE_WORDS = 8


def named_words(raw: str) -> frozenset[str]:
    """The words of ``raw`` (as typed) that are part of a name or a title, lower case. A message in
    capitals throughout names nothing this way (it shouts)."""
    letters = [char for char in raw if char.isalpha()]
    if sum(char.isupper() for char in letters) > 0.5 * max(1, len(letters)):
        return frozenset()
    named: set[str] = set()
    for span in QUOTED.findall(raw):
        words = re.findall(r"[A-Za-z][A-Za-z'*-]*", span)
        capitalised = sum(word[0].isupper() for word in words)
        if len(words) <= TITLE_WORDS and capitalised >= 2 and 2 * capitalised >= len(words):
            named.update(word.lower() for word in words)
    tokens = RAW_WORD.findall(raw)
    for i, word in enumerate(tokens):
        inside = i > 0 and tokens[i - 1] not in ".!?"
        if not (inside and _capitalised(word)):
            continue
        before, after = tokens[i - 1], tokens[i + 1] if i + 1 < len(tokens) else ""
        if _capitalised(before):
            named.update((before.lower(), word.lower()))
        elif _capitalised(after) or after.isdigit():
            named.add(word.lower())
    return frozenset(named)


def _capitalised(word: str) -> bool:
    """"Dick", "Jackass"; not "I", "DAMN" or "wtf"."""
    return len(word) > 1 and word[0].isupper() and word[1:].islower()


def service_target(text: str) -> str | None:
    """The word that aims a message at the bot or the service ("your", "order", "refund"), or None."""
    found = SERVICE_TARGET.search(text)
    return found.group(0) if found else None


# Words that may follow a feeling word without being what it is about ("this is terrible, ...",
# "annoyed that ...", "fed up with ..."): anything else right after it is its object.
_NOT_AN_OBJECT = frozenset((
    "about", "after", "again", "already", "and", "as", "at", "because", "but", "by", "for", "from", "how",
    "i", "if", "in", "is", "it", "just", "me", "now", "of", "on", "or", "really", "since", "so", "that",
    "the", "then", "this", "to", "today", "too", "us", "was", "we", "what", "when", "why", "with", "you",
))
_CLAUSE = re.compile(r"[,.;:!?]+|\bbut\b")
_NEXT_WORD = re.compile(r" ([a-z']+)")
# The feeling words that qualify a noun ("terrible weather"); "tired of", "fed up with", "a joke" do not.
_QUALIFYING = frozenset(("terrible", "horrible", "awful", "worst", "disgusting", "ridiculous", "pathetic",
                         "absurd", "outrageous", "disgraceful", "shameful", "appalling", "annoying",
                         "disappointing"))


# What a feeling is about when it is said of the day rather than of the service ("the weather has
# been awful, will deliveries be delayed?", "the last book was disappointing, when is the next one out?").
_ELSEWHERE = re.compile(
    r"\b(?:weather|rain|snow|storm|heat|traffic|roads?|commute|day|week|weekend|morning|monday|year|"
    r"news|film|movie|book|series|show|episode|season|game|match|song|album|ending)\b"
)


def feeling_elsewhere(text: str) -> bool:
    """Whether every feeling word of ``text`` is about something that is not the service: an
    adjective that qualifies the word after it ("terrible weather today, is my parcel delayed",
    "awful traffic") or is said of the weather, the day or a film ("the weather has been awful"), in
    a clause that names nothing of the service. "Your delivery was terrible", "terrible service",
    "this is ridiculous, where is my refund", "tired of all the problems" are about the service."""
    found = list(FEELING.finditer(text))
    if not found:
        return False
    for match in found:
        start = max((m.end() for m in _CLAUSE.finditer(text, 0, match.start())), default=0)
        after = _CLAUSE.search(text, match.end())
        clause = text[start:after.start() if after else len(text)]
        following = _NEXT_WORD.match(text, match.end())
        qualifies = following is not None and following.group(1) not in _NOT_AN_OBJECT
        said_of_the_day = _ELSEWHERE.search(clause) is not None
        if match.group(0) not in _QUALIFYING or service_target(clause) or not (qualifies or said_of_the_day):
            return False
    return True


def dislike(text: str) -> str | None:
    """A stated taste ("I don't like horror films"), which is not a complaint about the service."""
    found = DISLIKE.search(text)
    return found.group(0) if found else None


# Praise for the shop or the team, with nothing asked: "i love this shop", "you guys are great", "great
# service". Not "helpful" ("you're so helpful" after a weak answer is as often sarcasm).
_COMPLIMENT = (
    r"(?:i |we )?(?:really |just |absolutely )?(?:love|adore) (?:you(?: guys| all)?|this|it|"
    r"(?:this|your|the) (?:shop|store|site|website|app|service|products?|company|brand|stuff|range|team))|"
    r"(?:you|you guys|you're|you are|your team|your team is|this shop is|this site is|this store is)"
    rf"(?: are| is)? (?:so |really |very |just |the )?(?:{PRAISE})|"
    r"(?:great|amazing|excellent|brilliant|fantastic|lovely) (?:service|shop|store|products?|team|job)|"
    r"love it|good job|well done|keep it up|keep up the good work|you rock|nice work"
)
COMPLIMENT = re.compile(rf"\b(?:{_COMPLIMENT})\b")
PHATIC = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|yo|there|everyone|assistant|guys|folks|lol|haha+|hehe|lmao|"
    r"good (?:morning|afternoon|evening)|thanks?|thank you|thx|ty|cheers|ok|okay|"
    r"k|kk|alright|all right|sure|yes|yeah|yep|yup|no|nope|nah|great|perfect|cool|nice|awesome|fine|got it|"
    r"i see|understood|bye|goodbye|see you|that's all|that is all|nothing else|no thanks|no thank you|"
    r"you too|sounds good|will do|done|right|correct|exactly|please|so much|a lot|very much|again|"
    r"for (?:your|the) help|that (?:helps|helped|works|worked)(?: for me)?|have a (?:nice|good|great) day|"
    r"nothing|not (?:right )?now|that's ok|that is ok|i appreciate it|for everything|i don't|i do not|"
    r"(?:i am |i'm |i'm very |i am very |so |very )?(?:thankful|grateful)|"
    r"i (?:really )?appreciate (?:that|your help|the help|it)|"
    r"maybe later|not yet|take care|ttyl|catch you later|(?:talk|speak)(?: to you)? (?:soon|later)|"
    rf"{_COMPLIMENT}"
    r")[ ,.!:)]*)+$"
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
    r"sorted|done|yes|yep|yeah|nope|no|found it|makes sense|good to know|thankful|grateful)\b"
)


# "no, the billing address", "no I meant the blue one", "nope, not that order": a "no" that goes on to
# say what was meant corrects the bot's reading; it is not "no thanks"
CORRECTION = re.compile(r"^(?:no|nope|nah)\b[\s,.!-]*(?:the|my|a|an|not|i (?:meant?|said|asked|was asking)|"
                        r"what i (?:meant|said|asked))\b")


def acknowledgement(text: str) -> bool:
    """Thanks, "ok fair enough, i'll wait", "yep worked now": the visitor closes or confirms and asks
    nothing; at most four other words around the acknowledgement, and no question mark. A
    correction ("no, the billing address") is not one: it asks again."""
    if phatic(text):
        return True
    if "?" in text or not ACK.search(text) or CORRECTION.match(text):
        return False
    return len(re.findall(r"[a-z0-9']+", ACK.sub(" ", text))) <= 4


GREETING = re.compile(r"^(?:hi|hello|hey|hiya|yo|good (?:morning|afternoon|evening))\b")
THANKS = re.compile(r"\b(?:thanks?|thank you|thx|ty|cheers|i (?:really )?appreciate (?:it|that|your help)|"
                    r"thankful|grateful)\b")
GOODBYE = re.compile(r"\b(?:bye|goodbye|see you|have a (?:nice|good|great) day|that's all|that is all|"
                     r"nothing else|take care|ttyl|catch you later|"
                     r"(?:talk|speak)(?: to you)? (?:soon|later))\b")


def small_talk(text: str) -> str | None:
    """What a message with no question in it is, for the bot to answer in kind rather than with a
    passage: "greeting", "thanks", "goodbye", "compliment", "acknowledgement" (ok, yes, no) or
    "gibberish"; None for anything else. ``text`` as typed."""
    words = canonical(text)
    if gibberish(words):
        return "gibberish"
    if not phatic(words):  # every word small talk: "yes I want to cancel" asks for something
        return None
    if GOODBYE.search(words):
        return "goodbye"
    if THANKS.search(words):
        return "thanks"
    if COMPLIMENT.search(words):
        return "compliment"
    return "greeting" if GREETING.match(words) else "acknowledgement"


VOWELS = frozenset("aeiouy")
CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{5,}")
ENGLISH_CLUSTER = re.compile(r"ngth|ghts|tchs|rst|nst|str|ndl|mpt|nch")


def gibberish(text: str) -> bool:
    """Nothing a knowledge base could answer: no letters at all ("??", "..."), or every word a
    keyboard mash ("asdkjh", "sdfsdf") with no vowel or a run of five consonants. A reason to ask
    again, not to hand over on the first message."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    if not words:
        return True
    return all(_mashed(word) for word in words)


def _mashed(word: str) -> bool:
    """A keyboard mash: four letters or more without a vowel ("sdfsdf", not "sms" or "pdf"), or a
    run of five consonants that English does not write ("asdkjh", not "strengths")."""
    if len(word) >= 4 and not VOWELS & set(word):
        return True
    run = CONSONANT_RUN.search(word)
    return run is not None and not ENGLISH_CLUSTER.search(run.group(0))
