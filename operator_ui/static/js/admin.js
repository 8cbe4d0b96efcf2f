// The admin page: operators (invite, role, skills and languages, capacity, team, deactivate), teams
// (skills, overflow target and timeout) and canned replies (create, edit, search by any part of the
// shortcut), each change sent with PATCH and audited by the engine. Another admin's change arrives
// as roster.updated on the operator WebSocket and redraws the tables.
import {Api, LiveSocket, showConnection} from "./api.js";
import {clearSession, loadSession, signIn} from "./auth.js";
import {dateTime, fill, h} from "./dom.js";
import {renderHours} from "./hours-admin.js";

const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
const idOrNull = (value) => (value === "" ? null : Number(value));

class Admin {
  constructor(session) {
    this.session = session;
    this.api = new Api("", session.token, () => this.signOut());
    this.teams = [];
  }

  async start() {
    document.getElementById("main").hidden = false;
    document.getElementById("me").hidden = false;
    document.getElementById("logout").addEventListener("click", () => this.signOut());
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

  async refresh() {
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
      f[`${signal}.offer_at`].value = settings[signal].offer_at;
      f[`${signal}.escalate_at`].value = settings[signal].escalate_at;
    }
    f.vip_escalate.checked = settings.vip_escalate;
    f.topics.value = settings.always_human_topics.join(", ");
    document.getElementById("handoff-saved").textContent = settings.saved_to
      ? `Kept in ${settings.saved_to}.` : "Applied to this server until it restarts (set BATON_HANDOFF_CONFIG to keep them).";
  }

  /** PATCH ``path`` with ``body``; errors (the engine says what is wrong) go to ``errorId``. */
  async save(path, body, errorId, row) {
    const error = document.getElementById(errorId);
    error.textContent = "";
    try {
      await this.api.request("PATCH", path, body);
      row?.classList.add("saved");
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
    fill(document.getElementById("operator-rows"), operators.map((o) => {
      const role = h("select", {"aria-label": `Role of ${o.name}`}, ["operator", "supervisor", "admin"].map((r) =>
        h("option", {value: r, text: r, selected: r === o.role})));
      const skills = h("input", {value: o.skills.join(", "), "aria-label": `Skills of ${o.name}`});
      const capacity = h("input", {type: "number", min: 0, max: 100, value: String(o.capacity), "aria-label": `Capacity of ${o.name}`});
      const team = this.teamSelect(o.team_id);
      team.setAttribute("aria-label", `Team of ${o.name}`);
      const active = h("input", {type: "checkbox", checked: o.active, "aria-label": `${o.name} is active`});
      const row = h("tr", {dataset: {operatorId: String(o.id)}},
        h("td", {}, h("strong", {text: o.name}), h("div", {class: "muted", text: o.email})),
        h("td", {}, role), h("td", {}, skills), h("td", {}, capacity), h("td", {}, team), h("td", {}, active),
        h("td", {}, h("button", {type: "button", class: "secondary", text: "Save", onclick: () => {
          const teamId = idOrNull(team.value);
          this.save(`/api/admin/operators/${o.id}`, {role: role.value, skills: list(skills.value),
            capacity: capacity.value === "" ? null : Number(capacity.value), active: active.checked,
            ...(teamId === null ? {clear_team: true} : {team_id: teamId}), reason: "admin page"}, "operator-error", row);
        }})));
      return row;
    }));
  }

  renderTeams(teams) {
    fill(document.getElementById("team-rows"), teams.length ? teams.map((t) => {
      const skills = h("input", {value: t.skills.join(", "), "aria-label": `Skills of ${t.name}`});
      const backup = this.teamSelect(t.backup_team_id, {none: "Nobody", exclude: t.id});
      backup.setAttribute("aria-label", `${t.name} overflows to`);
      const after = h("input", {type: "number", min: 0, max: 86400, value: t.overflow_after_seconds ?? "",
        "aria-label": `${t.name} overflows after seconds`});
      const row = h("tr", {dataset: {teamId: String(t.id)}}, h("td", {text: t.name}), h("td", {}, skills),
        h("td", {}, backup), h("td", {}, after),
        h("td", {}, h("button", {type: "button", class: "secondary", text: "Save", onclick: () => {
          const backupId = idOrNull(backup.value);
          this.save(`/api/admin/teams/${t.id}`, {skills: list(skills.value),
            ...(backupId === null ? {clear_backup: true} : {backup_team_id: backupId}),
            ...(after.value === "" ? {} : {overflow_after_seconds: Number(after.value)}), reason: "admin page"},
          "team-error", row);
        }})));
      return row;
    }) : h("tr", {}, h("td", {colspan: 5, class: "muted", text: "No teams yet."})));
  }

  async renderCanned() {
    const q = document.getElementById("canned-search").value.trim();
    const replies = q ? await this.api.get(`/api/operator/canned?q=${encodeURIComponent(q)}`)
      : await this.api.get("/api/admin/canned");
    fill(document.getElementById("canned-rows"), replies.length ? replies.map((c) => {
      const shortcut = h("input", {value: c.shortcut, "aria-label": `Shortcut of ${c.title}`});
      const title = h("input", {value: c.title, "aria-label": `Title of ${c.shortcut}`});
      const text = h("textarea", {"aria-label": `Text of ${c.shortcut}`});
      text.value = c.text;
      const row = h("tr", {dataset: {cannedId: String(c.id)}}, h("td", {}, shortcut), h("td", {}, title), h("td", {}, text),
        h("td", {}, h("button", {type: "button", class: "secondary", text: "Save", onclick: () =>
          this.save(`/api/admin/canned/${c.id}`, {shortcut: shortcut.value.trim(), title: title.value.trim(),
            text: text.value, reason: "admin page"}, "canned-error", row)})));
      return row;
    }) : h("tr", {}, h("td", {colspan: 4, class: "muted", text: q ? `No reply matches ${q}.` : "No canned replies yet."})));
  }

  renderAudit(entries, operators) {
    const names = new Map(operators.map((o) => [o.id, o.name]));
    fill(document.getElementById("audit"), entries.length ? entries.map((e) => h("li", {},
      h("span", {class: "when", text: dateTime(e.created_at)}),
      `${names.get(e.actor_id) || `#${e.actor_id}`} changed ${e.target}: `,
      Object.entries(e.changes).map(([field, [before, after]]) => `${field} ${JSON.stringify(before)} → ${JSON.stringify(after)}`).join(", "),
      e.reason ? ` (${e.reason})` : "")) : h("li", {class: "muted", text: "Nothing changed yet."}));
  }

  bindForms() {
    const submit = (id, errorId, send) => document.getElementById(id).addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.target;
      const error = document.getElementById(errorId);
      error.textContent = "";
      try {
        await send(form.elements);
        form.reset();
        await this.refresh();
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
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
      try {
        this.renderHandoff(await this.api.request("PUT", "/api/admin/handoff", {low_confidence: pair("low_confidence"),
          explicit_request: pair("explicit_request"), frustration: pair("frustration"), vip_escalate: f.vip_escalate.checked,
          always_human_topics: list(f.topics.value), reason: "admin page"}));
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
