// The admin page: operators (invite, role, skills and languages, capacity, team, deactivate), teams
// (skills, overflow target and timeout) and canned replies (create, edit, search by any part of the
// shortcut), each change sent with PATCH and audited by the engine. Another admin's change arrives
// as roster.updated on the operator WebSocket and redraws the tables; what an admin has changed and
// not saved survives the redraw (unsaved.js), and a Save sends only the fields they changed; leaving
// the page (closing, reloading, a link, Sign out) with such a change asks first.
import {Api, LiveSocket, showConnection} from "./api.js";
import {clearSession, loadSession, signIn} from "./auth.js";
import {dateTime, fill, h} from "./dom.js";
import {renderHours} from "./hours-admin.js";
import {changes, guardLeaving, mayLeave, pending, redraw, settle, show, track} from "./unsaved.js";

const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
const idOrNull = (value) => (value === "" ? null : Number(value));
const SAVED_MS = 1500;

class Admin {
  constructor(session) {
    this.session = session;
    this.api = new Api("", session.token, () => this.signOut());
    this.teams = [];
    this.refreshing = null;  // the refresh running now, if any
    this.again = false;  // another was asked for while it ran
    this.cannedAsked = 0;  // the latest canned list asked for: an older answer is not drawn over it
  }

  async start() {
    document.getElementById("main").hidden = false;
    document.getElementById("me").hidden = false;
    guardLeaving();
    document.getElementById("logout").addEventListener("click", () => {
      if (mayLeave("Sign out")) this.signOut();
    });
    if (this.session.operator?.role !== "admin") {
      const note = document.getElementById("forbidden");
      note.hidden = false;
      note.textContent = "These settings need an admin account.";
      for (const id of ["operators", "teams", "hours", "canned", "handoff"]) document.getElementById(id).hidden = true;
      return;
    }
    this.bindForms();
    await this.refresh();
    new LiveSocket(() => this.api.socketUrl(`/ws/operator?token=${encodeURIComponent(this.session.token)}`), {
      onOpen: () => this.refresh(),
      onEvent: (event) => {
        if (event.type === "roster.updated") this.refresh();
      },
      onStatus: showConnection(),
      onUnauthorised: () => this.signOut(),
    }).start();
  }

  /** Redraw everything from the engine. Calls while one runs coalesce into one more run after it,
   * so the last drawing always comes from data fetched after the last call, and two refreshes
   * never interleave their drawing. */
  refresh() {
    this.again = true;
    if (!this.refreshing) {
      this.refreshing = (async () => {
        try {
          while (this.again) {
            this.again = false;
            await this.load();
          }
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
  }

  async load() {
    const [operators, teams, audit] = await Promise.all([this.api.get("/api/admin/operators"),
      this.api.get("/api/admin/teams"), this.api.get("/api/admin/audit?limit=15")]);
    this.teams = teams;
    this.renderOperators(operators);
    this.renderTeams(teams);
    await renderHours(this.api, teams, () => this.refresh());
    await this.renderCanned();
    this.renderAudit(audit, operators);
    this.renderHandoff(await this.api.get("/api/admin/handoff"));
  }

  renderHandoff(settings) {
    const f = document.getElementById("handoff-form").elements;
    for (const signal of ["low_confidence", "explicit_request", "frustration"]) {
      show(f[`${signal}.offer_at`], settings[signal].offer_at);
      show(f[`${signal}.escalate_at`], settings[signal].escalate_at);
    }
    show(f.vip_escalate, settings.vip_escalate);
    show(f.topics, settings.always_human_topics.join(", "));
    document.getElementById("handoff-saved").textContent = settings.saved_to
      ? `Kept in ${settings.saved_to}.` : "Applied to this server until it restarts (set BATON_HANDOFF_CONFIG to keep them).";
  }

  /** PATCH ``path`` with the fields of ``row`` the admin changed (``encode``: see unsaved.changes);
   * errors (the engine says what is wrong) go to ``errorId`` and the edits stay for a retry. */
  async save(path, row, encode, errorId) {
    const error = document.getElementById(errorId);
    error.textContent = "";
    const sent = pending(row);
    try {
      await this.api.request("PATCH", path, {...changes(row, encode), reason: "admin page"});
      settle(sent);
      row.classList.add("saved");  // a moment of green: the row may stay in the page after the redraw
      setTimeout(() => row.classList.remove("saved"), SAVED_MS);
      await this.refresh();
      return true;
    } catch (failure) {
      error.textContent = failure.message;
      return false;
    }
  }

  teamSelect(selected, {none = "No team", exclude} = {}) {
    return h("select", {}, h("option", {value: "", text: none}),
      this.teams.filter((t) => t.id !== exclude).map((t) => h("option", {value: String(t.id), text: t.name,
        selected: t.id === selected})));
  }

  renderOperators(operators) {
    redraw(document.getElementById("operator-rows"), operators.map((o) => {
      const role = h("select", {name: "role", "aria-label": `Role of ${o.name}`}, ["operator", "supervisor", "admin"]
        .map((r) => h("option", {value: r, text: r, selected: r === o.role})));
      const team = this.teamSelect(o.team_id);
      team.name = "team";
      team.setAttribute("aria-label", `Team of ${o.name}`);
      const row = h("tr", {dataset: {operatorId: String(o.id)}},
        h("td", {}, h("strong", {text: o.name}), h("div", {class: "muted", text: o.email})),
        h("td", {}, role), h("td", {}, h("input", {name: "skills", value: o.skills.join(", "), "aria-label": `Skills of ${o.name}`})),
        h("td", {}, h("input", {name: "capacity", type: "number", min: 0, max: 100, value: String(o.capacity),
          "aria-label": `Capacity of ${o.name}`})),
        h("td", {}, team),
        h("td", {}, h("input", {name: "active", type: "checkbox", checked: o.active, "aria-label": `${o.name} is active`})),
        h("td", {}, h("button", {type: "button", class: "secondary", text: "Save", onclick: () =>
          this.save(`/api/admin/operators/${o.id}`, row, {role: (f) => ({role: f.value}),
            skills: (f) => ({skills: list(f.value)}),
            capacity: (f) => ({capacity: f.value === "" ? null : Number(f.value)}),
            team: (f) => (idOrNull(f.value) === null ? {clear_team: true} : {team_id: idOrNull(f.value)}),
            active: (f) => ({active: f.checked})}, "operator-error")})));
      return row;
    }), (row) => row.dataset.operatorId);
  }

  renderTeams(teams) {
    redraw(document.getElementById("team-rows"), teams.length ? teams.map((t) => {
      const backup = this.teamSelect(t.backup_team_id, {none: "Nobody", exclude: t.id});
      backup.name = "backup";
      backup.setAttribute("aria-label", `${t.name} overflows to`);
      const row = h("tr", {dataset: {teamId: String(t.id)}}, h("td", {text: t.name}),
        h("td", {}, h("input", {name: "skills", value: t.skills.join(", "), "aria-label": `Skills of ${t.name}`})),
        h("td", {}, backup),
        h("td", {}, h("input", {name: "after", type: "number", min: 0, max: 86400, value: t.overflow_after_seconds ?? "",
          "aria-label": `${t.name} overflows after seconds`})),
        h("td", {}, h("button", {type: "button", class: "secondary", text: "Save", onclick: () =>
          this.save(`/api/admin/teams/${t.id}`, row, {skills: (f) => ({skills: list(f.value)}),
            backup: (f) => (idOrNull(f.value) === null ? {clear_backup: true} : {backup_team_id: idOrNull(f.value)}),
            after: (f) => (f.value === "" ? {} : {overflow_after_seconds: Number(f.value)})}, "team-error")})));
      return row;
    }) : [h("tr", {}, h("td", {colspan: 5, class: "muted", text: "No teams yet."}))], (row) => row.dataset.teamId);
  }

  async renderCanned() {
    const asked = ++this.cannedAsked;
    const q = document.getElementById("canned-search").value.trim();
    const replies = q ? await this.api.get(`/api/operator/canned?q=${encodeURIComponent(q)}`)
      : await this.api.get("/api/admin/canned");
    if (asked !== this.cannedAsked) return;  // a newer search or refresh asked since: its answer is drawn
    redraw(document.getElementById("canned-rows"), replies.length ? replies.map((c) => {
      const text = h("textarea", {name: "text", "aria-label": `Text of ${c.shortcut}`});
      text.value = c.text;
      const row = h("tr", {dataset: {cannedId: String(c.id)}},
        h("td", {}, h("input", {name: "shortcut", value: c.shortcut, "aria-label": `Shortcut of ${c.title}`})),
        h("td", {}, h("input", {name: "title", value: c.title, "aria-label": `Title of ${c.shortcut}`})),
        h("td", {}, text),
        h("td", {}, h("button", {type: "button", class: "secondary", text: "Save", onclick: () =>
          this.save(`/api/admin/canned/${c.id}`, row, {shortcut: (f) => ({shortcut: f.value.trim()}),
            title: (f) => ({title: f.value.trim()}), text: (f) => ({text: f.value})}, "canned-error")})));
      return row;
    }) : [h("tr", {}, h("td", {colspan: 4, class: "muted", text: q ? `No reply matches ${q}.` : "No canned replies yet."}))],
    (row) => row.dataset.cannedId);
  }

  renderAudit(entries, operators) {
    const names = new Map(operators.map((o) => [o.id, o.name]));
    fill(document.getElementById("audit"), entries.length ? entries.map((e) => h("li", {},
      h("span", {class: "when", text: dateTime(e.created_at)}),
      `${names.get(e.actor_id) || `#${e.actor_id}`} ${e.action.endsWith(".created") ? "created" : "changed"} ${e.target}: `,
      Object.entries(e.changes).map(([field, [before, after]]) => `${field} ${JSON.stringify(before)} → ${JSON.stringify(after)}`).join(", "),
      e.reason ? ` (${e.reason})` : "")) : h("li", {class: "muted", text: "Nothing changed yet."}));
  }

  bindForms() {
    const submit = (id, errorId, send) => {
      track(document.getElementById(id));  // what is typed into it counts as unsaved until it is sent
      document.getElementById(id).addEventListener("submit", (event) => create(event, errorId, send));
    };
    const create = async (event, errorId, send) => {
      event.preventDefault();
      const form = event.target;
      const error = document.getElementById(errorId);
      error.textContent = "";
      try {
        await send(form.elements);
        form.reset();
        track(form);
        await this.refresh();
      } catch (failure) {
        error.textContent = failure.message;
      }
    };
    submit("invite", "invite-error", (f) => this.api.post("/api/admin/operators", {name: f.name.value.trim(),
      email: f.email.value.trim(), password: f.password.value, role: f.role.value, skills: list(f.skills.value),
      capacity: Number(f.capacity.value)}));
    submit("new-team", "team-error", (f) => this.api.post("/api/admin/teams", {name: f.name.value.trim(),
      skills: list(f.skills.value)}));
    submit("new-canned", "canned-error", (f) => this.api.post("/api/admin/canned", {shortcut: f.shortcut.value.trim(),
      title: f.title.value.trim(), text: f.text.value}));
    document.getElementById("handoff-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const f = event.target.elements;
      const pair = (signal) => ({offer_at: Number(f[`${signal}.offer_at`].value), escalate_at: Number(f[`${signal}.escalate_at`].value)});
      const error = document.getElementById("handoff-error");
      error.textContent = "";
      const sent = pending(event.target);
      try {
        const stored = await this.api.request("PUT", "/api/admin/handoff", {low_confidence: pair("low_confidence"),
          explicit_request: pair("explicit_request"), frustration: pair("frustration"), vip_escalate: f.vip_escalate.checked,
          always_human_topics: list(f.topics.value), reason: "admin page"});
        settle(sent);
        this.renderHandoff(stored);
        await this.refresh();
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
    let timer = null;
    document.getElementById("canned-search").addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.renderCanned(), 150);
    });
  }

  signOut() {
    clearSession();
    location.reload();
  }
}

async function main() {
  const session = loadSession() || await signIn(document.getElementById("login"), {title: "Admin"});
  await new Admin(session).start();
}

main();
