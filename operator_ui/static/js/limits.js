// Limits the engine enforces, enforced while typing too: a field never takes more than the engine
// accepts (the default `max_message_chars`), so nothing typed is lost to a refusal after sending.
import {h} from "./dom.js";

export const MAX_MESSAGE_CHARS = 4000;
const SHOW_FROM = 0.8;  // the counter appears once 80 % of the limit is used

/** A live "3,412 / 4,000" counter for ``input`` (hidden while far from its maxlength). */
export function lengthCounter(input) {
  const counter = h("span", {class: "length", "aria-live": "polite", hidden: true});
  const limit = Number(input.maxLength) || MAX_MESSAGE_CHARS;
  const update = () => {
    const used = input.value.length;
    counter.hidden = used < limit * SHOW_FROM;
    counter.textContent = `${used.toLocaleString("en")} / ${limit.toLocaleString("en")}`;
    counter.classList.toggle("full", used >= limit);
  };
  input.addEventListener("input", update);
  counter.update = update;
  return counter;
}
