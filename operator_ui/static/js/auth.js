// Operator sign-in shared by the console and the supervisor view. The token lives in
// sessionStorage: it survives a reload of the tab and ends with it.
import {Api} from "./api.js";
import {h} from "./dom.js";

const KEY = "baton.operator";

export function loadSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return saved?.token ? saved : null;
  } catch {
    return null;
  }
}

export function saveSession(session) {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

/** Show the sign-in form in ``container``; resolves with the session once the engine accepts it. */
export function signIn(container, {title, hint}) {
  return new Promise((resolve) => {
    const error = h("p", {class: "error", role: "alert"});
    const email = h("input", {id: "login-email", type: "email", name: "email", autocomplete: "username", required: true});
    const password = h("input", {id: "login-password", type: "password", name: "password",
      autocomplete: "current-password", required: true});
    const submit = h("button", {type: "submit", text: "Sign in"});
    const form = h("form", {onsubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.textContent = "";
      try {
        const answer = await new Api("").post("/api/operator/login", {email: email.value, password: password.value});
        const session = {token: answer.token, operator: answer.operator, fresh: true};
        saveSession(session);
        container.hidden = true;
        resolve(session);
      } catch (failure) {
        error.textContent = failure.status === 401 ? "Wrong email or password." : `Could not sign in: ${failure.message}`;
        password.select();
      } finally {
        submit.disabled = false;
      }
    }},
    h("div", {class: "field"}, h("label", {for: "login-email", text: "Email"}), email),
    h("div", {class: "field"}, h("label", {for: "login-password", text: "Password"}), password),
    error, submit);
    container.replaceChildren(h("div", {class: "login card"}, h("h1", {text: title}), hint ? h("p", {class: "hint", text: hint}) : null, form));
    container.hidden = false;
    email.focus();
  });
}

export const DEMO_HINT = "Demo login: operator@example.com / operator-demo (run `baton users demo` to create it).";
