"""Requests for a person escalate from the first turn, typos and informal wording included; questions
about reaching support are offers where the knowledge base answers them and handoffs where it does
not; ordinary and polite messages continue."""

from __future__ import annotations

import pytest

from handoff import Transcript, Turn

ESCALATE = [
    "human support please",
    "I want to escalate",
    "can you escalate please",
    "can i talk 2 a real person",
    "agent pls",
    "pls call me back",
    "is there a human there?",
    "get me a human",
    "i want to tlak to a humna",
    "connect me with someone who can actually help",
    "REPRESENTATIVE",
    "could you put me through to your billing team member please",
    "I'd rather speak with somebody, thanks",
    # as customers type them (issue 9): one word, typos, other words for staff, mixed with a complaint
    "agent",
    "agnet",
    "can I talk to your executive",
    "I need a person to look at my billing",
    "can a human look at this",
    "transfer me",
    "your bot is useless, I need someone from billing",
    "can i speek to a humen",
    # a person named with "help", a department to be put through to, a colleague, someone in charge
    "can a human help me with this refund",
    "could an agent help me",
    "put me through to sales",
    "transfer me to billing",
    "connect me with the right department",
    "pass me to a colleague",
    "I want to make a complaint to someone in charge",
    "who can i talk to about this",
    "someone help please",
    "assistance contacting somebody",  # "contacting" needs no preposition; "talking" does
    "how to speak tosomebody",  # two words run together
    "real human pls",
    "i want to complain to a person",
    "i demand a manager",
    "get me off this bot",
    "let me speak with your boss",
    "livechat",
    "I want a person",  # a person wanted, and nothing after it
    "can I have someone please",
    "I need someone to talk to",
    "I was charged twice. I want a person",
]
# The same requests in the other languages the speller reads, written to an English bot
ABROAD = [
    "quiero hablar con una persona",
    "me pueden comunicar con un agente",
    "un asesor por favor",
    "je voudrais parler à un conseiller",
    "passez-moi un conseiller",
    "ich möchte mit einem Mitarbeiter sprechen",
    "kann ich bitte mit einem menschen reden",
    "Mitarbeiter bitte",
    "quero falar com uma pessoa de verdade",
    "atendimento humano",
    "vorrei parlare con un operatore",
    "operatore per favore",
    "kan ik met een medewerker praten",
    "ik wil iemand spreken",
]
NOT_ABROAD = [
    "no quiero hablar con nadie, solo dime el horario",
    "je ne veux pas parler à un conseiller, juste le prix",
    "la persona que recibió el paquete no soy yo",
    "ich habe mit meinem Mann gesprochen, wir wollen stornieren",
    "un humain a signé pour mon colis",
    "mens",
]
OFFER = [
    "how do I contact support?",
    "what's your customer service phone number",
    "support email?",
    "customer care",
    "need helpline number",
    "give me contact number",
    "phone number for support",
    "email address for customer service",
]
CONTINUE = [
    "where is my parcel",
    "thank you, that was helpful",
    "someone stole my package from the porch",
    "can I pay in person at the shop",
    "I need the invoice for Mrs. Patel",
    "good morning! could you tell me your return policy please?",
    "my travel agent booked the flight",
    "what's their contact number? is it furnished?",
    "can someone help me find the size guide",
    "put me on the mailing list",
    "who can i send the parcel to",
    "my colleague ordered the same lamp",
    "transfer my order to another address",
    "do you have staff discounts",  # a staff word that qualifies a thing names no person
    "is there an employee discount",
    "do you have a human resources email for job applications",  # "human" qualifies, as "staff" does
    "do you have a manager's special this week",
    "talk soon",  # a goodbye: the request model alone read it at 0.81
    "I need someone to sign for the parcel tomorrow",  # someone wanted for something else
    # a third party's details, a word that qualifies, a person described, a greeting to the bot
    "What is their address and contact number?",
    "do you have the clinic's contact number?",
    "mummies scare me, talking people getting up from the grave",
    "the lead was a real person, not a comic book character, just a real guy in a hard spot",
    "Hi Assistant.",
    "the plotline was thin but it made me laugh",  # "plotline" is not a misspelt "hotline"
]


def first_turn(text: str) -> Transcript:
    return Transcript(turns=[Turn(role="user", text=text)])


@pytest.mark.parametrize("text", ESCALATE)
def test_person_requests_escalate_on_the_first_turn(detector, text):
    decision = detector.decide(first_turn(text))
    assert decision.action == "escalate", decision.explanation
    assert decision.reasons[0] == "explicit_request"
    signal = next(s for s in decision.signals if s.name == "explicit_request")
    assert signal.evidence, "every reason carries evidence"


@pytest.mark.parametrize("text", OFFER)
def test_asking_how_to_reach_support_is_an_offer_where_the_bot_answers_it(detector, text):
    answered = Transcript(turns=[Turn("user", text), Turn("bot", "Call us on 0800 123 456.", 0.9)])
    decision = detector.decide(answered)
    assert decision.action == "offer", decision.explanation
    assert decision.reasons == ["explicit_request"]


@pytest.mark.parametrize("text", OFFER)
def test_asking_how_to_reach_support_escalates_where_nothing_answers_it(detector, text):
    unanswered = Transcript(turns=[Turn("user", text), Turn("bot", "I am not sure.", 0.2)])
    decision = detector.decide(unanswered)
    assert decision.action == "escalate", decision.explanation
    assert decision.reasons[0] == "explicit_request"
    signal = next(s for s in decision.signals if s.name == "explicit_request")
    assert "nothing in the knowledge base" in signal.evidence


@pytest.mark.parametrize("text", CONTINUE)
def test_ordinary_and_polite_messages_continue(detector, text):
    decision = detector.decide(first_turn(text))
    assert decision.action == "continue", decision.explanation


@pytest.mark.parametrize("text", ABROAD)
def test_a_person_asked_for_in_another_language_escalates(detector, text):
    decision = detector.decide(first_turn(text))
    assert decision.action == "escalate", decision.explanation
    assert decision.reasons[0] == "explicit_request"


@pytest.mark.parametrize("text", NOT_ABROAD)
def test_a_person_mentioned_in_another_language_is_no_request(detector, text):
    decision = detector.decide(first_turn(text))
    assert decision.action != "escalate", decision.explanation


def test_asking_for_customer_service_in_another_language_is_a_contact_question(detector):
    answered = Transcript(turns=[Turn("user", "¿cuál es el número de atención al cliente?"),
                                 Turn("bot", "Call us on 0800 123 456.", 0.9)])
    decision = detector.decide(answered)
    assert decision.action == "offer", decision.explanation
    assert decision.reasons == ["explicit_request"]


def test_someone_else_is_another_option_not_a_person(detector):
    decision = detector.decide(first_turn("is there someone else I can go with?"))
    assert decision.action != "escalate", decision.explanation


@pytest.mark.parametrize("text", ["I don't need a human, just tell me the opening hours",
                                  "i dont want to escalate this further, just tell me the refund time"])
def test_a_declined_person_is_not_a_request(detector, text):
    decision = detector.decide(first_turn(text))
    assert decision.action != "escalate", decision.explanation


def test_request_late_in_a_conversation_escalates_at_that_turn(detector):
    turns = [
        Turn("user", "where is my order"),
        Turn("bot", "You can track it under My orders.", 0.9),
        Turn("user", "ok let me talk to an agent then"),
    ]
    decision = detector.decide(Transcript(turns=turns))
    assert decision.action == "escalate"
    assert decision.reasons[0] == "explicit_request"
