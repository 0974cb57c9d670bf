// The officer's screen: a client of the local API through mpolice-screen (the loopback
// bridge). No framework, no build step: one module, the words in i18n.js.
import { t, age, language, translatePage } from "./i18n.js";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

// The bridge's per-boot token arrives once in the URL's fragment (never sent to a server),
// is kept for this tab only, and goes with every request.
const token = (() => {
  const match = location.hash.match(/token=([0-9a-f]{64})/);
  if (match) {
    sessionStorage.setItem("mpolice-token", match[1]);
    history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem("mpolice-token") || "";
})();

class APIError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

async function api(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Accept-Language": language, ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      cache: "no-store",
    });
  } catch {
    setLink(false);
    throw new APIError(0, "bridge.unreachable", t("error.network"));
  }
  setLink(true);
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) throw new APIError(response.status, data.error?.code, data.error?.message || String(response.status));
  return data;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value; else node.setAttribute(name, value);
  }
  for (const child of children.flat(Infinity)) if (child != null) node.append(child instanceof Node ? child : String(child));
  return node;
}

// MARK: Screens

function show(id) {
  for (const section of ["signin", "lock", "app", "terminal-locked"]) $(`#${section}`).hidden = section !== id;
}

async function route() {
  const status = await refreshStatus();
  if (status?.protection?.lock) {
    $("#terminal-locked-why").textContent = `${status.protection.lock.cause} · ${status.protection.lock.since}`;
    return show("terminal-locked");
  }
  try {
    const session = await api("GET", "/v1/session");
    $("#sb-officer").textContent = `${session.officerId} ${session.name}`;
    if (session.locked) {
      $("#lock-who").textContent = `${session.officerId} ${session.name}`;
      return show("lock");
    }
    show("app");
    await Promise.all([loadDispatches(), loadHistory()]);
  } catch (error) {
    if (error.code === "terminal.locked") return route();
    $("#sb-officer").textContent = t("status.noOfficer");
    show("signin");
  }
}

// MARK: Status bar

function setLink(ok) {
  const pill = $("#sb-link");
  pill.textContent = t(ok ? "status.online" : "status.offline");
  pill.className = `pill ${ok ? "good" : "bad"}`;
}

async function refreshStatus() {
  let status;
  try { status = await api("GET", "/v1/status"); } catch { return null; }
  const lists = status.lists.filter((l) => l.list !== "officers");
  const newest = lists.reduce((a, l) => Math.max(a, l.version), 0);
  const oldest = lists.reduce((a, l) => Math.max(a, l.ageSeconds ?? 0), 0);
  const sync = $("#sb-sync");
  if (status.lastSync?.outcome === "failed") {
    sync.textContent = t("status.syncFailed", { reason: status.lastSync.reason ?? "?" });
    sync.className = "pill bad";
  } else if (status.lastSync) {
    sync.textContent = t("status.syncOk", { version: newest, age: age(oldest) });
    sync.className = "pill good";
  } else {
    sync.textContent = t("status.syncNever");
    sync.className = "pill warn";
  }
  $("#sb-outbox").textContent = t("status.outbox", { n: status.outbox.pending });
  $("#sb-outbox").className = `pill ${status.outbox.pending > 100 ? "warn" : ""}`;
  const emergency = $("#emergency");
  emergency.classList.toggle("active", Boolean(status.emergency));
  emergency.textContent = t(status.emergency ? "emergency.active" : "emergency.raise");
  const bulletins = $("#sb-bulletins");
  bulletins.hidden = !status.bulletins;
  bulletins.textContent = t("bulletins.count", { n: status.bulletins ?? 0 });
  $("#sb-gps").textContent = t("status.gps", { state: status.location?.status ?? "off" });
  $("#sb-gps").className = `pill ${["2d", "3d"].includes(status.location?.status) ? "good" : "warn"}`;
  const banner = $("#banner");
  const offline = status.protection?.offline;
  if (lists.some((l) => l.stale) || offline?.refusing) {
    banner.hidden = false;
    banner.className = "banner bad";
    banner.textContent = t("status.stale");
  } else {
    banner.hidden = true;
  }
  return status;
}

// The event stream, read with fetch so that the token goes as a header (EventSource cannot).
async function followEvents() {
  for (;;) {
    try {
      const response = await fetch("/v1/events", { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      setLink(true);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const name = block.match(/^event: (.*)$/m)?.[1];
          const data = block.match(/^data: (.*)$/m)?.[1];
          if (name) onEvent(name, data ? JSON.parse(data) : {});
        }
      }
    } catch {
      setLink(false);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function onEvent(name, data) {
  switch (name) {
    case "dispatch-received": case "dispatch-updated": case "dispatch-cancelled": case "dispatch-reassigned":
      flash(t(name === "dispatch-received" ? "dispatch.new" : `dispatch.${name}`, { summary: data.summary ?? "" }));
      loadDispatches();
      break;
    case "bulletin":
      flash(t("bulletin.new", { subject: data.subject ?? "", summary: data.summary ?? "" }), "bad");
      break;
    case "bulletin-expired":
      flash(t("bulletin.expired", { subject: data.subject ?? "" }));
      break;
    case "hit-confirmation": case "hit-confirmation-overdue":
      showConfirmation(data);
      break;
    case "photo-available":
      if (/^[0-9a-f]{64}$/.test(data.sha256 ?? "")) photoArrived(data.sha256);
      break;
    case "session-locked": case "session-unlocked": case "terminal-locked": case "terminal-unlocked":
      route();
      break;
    default:
      refreshStatus();
  }
}

function flash(text, kind = "") {
  const banner = $("#banner");
  banner.hidden = false;
  banner.className = `banner ${kind}`;
  banner.textContent = text;
  setTimeout(() => { banner.hidden = true; refreshStatus(); }, 8000);
}

// MARK: Sign-in and lock

function wireSignIn() {
  $("#signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = { officerId: form.officerId.value.trim(), pin: form.pin.value };
    if (form.otp.value) body.otp = form.otp.value.trim();
    try {
      await api("POST", "/v1/session", body);
      form.reset();
      $(".error", form).textContent = "";
      $("#otp-row").hidden = true;
      await route();
    } catch (error) {
      if (error.code === "session.otp-required") $("#otp-row").hidden = false;
      $(".error", form).textContent = error.message;
    }
  });
  $("#lock-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/v1/session/unlock", { pin: event.target.pin.value });
      event.target.reset();
      await route();
    } catch (error) {
      $(".error", event.target).textContent = error.message;
    }
  });
  $("#signout").addEventListener("click", async () => {
    const pin = prompt(t("signin.pin"));
    if (pin == null) return;
    try { await api("POST", "/v1/session/sign-out", { pin }); } catch (error) { alert(error.message); }
    await route();
  });
}

// MARK: Checks

const purposes = ["law-6-1", "law-6-2", "law-6-3", "law-6-4", "law-6-5", "law-6-6", "dispatch", "case", "traffic-stop"];
let kind = "plate";

function wireChecks() {
  const select = $("#check-form select[name=purpose]");
  select.append(el("option", { value: "" }, t("purpose.none")), ...purposes.map((p) => el("option", { value: p }, t(`purpose.${p}`))));
  select.addEventListener("change", () => { $("#reference-row").hidden = !["dispatch", "case"].includes(select.value); });
  for (const button of $$(".kinds button")) {
    button.addEventListener("click", () => {
      kind = button.dataset.kind;
      for (const b of $$(".kinds button")) b.classList.toggle("active", b === button);
      for (const label of $$("#check-form label[data-for]")) label.hidden = !label.dataset.for.split(" ").includes(kind);
      $("#reference-row").hidden = !["dispatch", "case"].includes(select.value);
      $("#check-entry-label").textContent = t(`check.entry.${kind === "name" || kind === "licence" ? "id" : kind}`);
    });
  }
  $(".kinds button.active").click();
  $("#check-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const purpose = form.purpose.value ? { purpose: form.purpose.value, ...(form.reference.value ? { purposeReference: form.reference.value } : {}) } : {};
    const [path, body] = {
      plate: ["plate", { plate: form.entry.value }],
      vin: ["vin", { vin: form.entry.value }],
      engine: ["engine", { engineNumber: form.entry.value }],
      id: ["person", { id: form.entry.value }],
      name: ["person", { name: form.name.value, dateOfBirth: form.dob.value }],
      licence: ["licence", { id: form.entry.value }],
    }[kind];
    try {
      const answer = await api("POST", `/v1/checks/${path}`, { ...body, ...purpose });
      $(".error", form).textContent = "";
      renderAnswer(answer);
      loadHistory();
    } catch (error) {
      $(".error", form).textContent = error.message;
      $("#answer").hidden = true;
      if (error.code === "session.locked" || error.code === "session.none") route();
    }
  });
}

function renderAnswer(answer) {
  const card = $("#answer");
  card.hidden = false;
  card.className = answer.outcome;
  card.dataset.outcome = answer.outcome;
  card.replaceChildren();
  card.append(el("div", { class: "outcome" }, `${t(`outcome.${answer.outcome}`)} · ${answer.query.normalized}`));
  const body = el("div", { class: "card-body" });
  card.append(body);
  // Caution flags first: what the officer must know before walking up.
  for (const list of answer.lists) for (const match of list.matches) {
    for (const flag of match.record.wantedPerson?.cautionFlags ?? []) body.append(el("div", { class: "caution", "data-flag": flag }, `⚠ ${t(`caution.${flag}`, {}, flag)}`));
    if (match.record.missingPerson?.vulnerable) body.append(el("div", { class: "caution" }, `⚠ ${t("field.vulnerable")}`));
  }
  // Urgent bulletins first: pushed by the center minutes ago, newer than any list.
  for (const b of answer.bulletins ?? []) {
    body.append(el("div", { class: "bulletin", "data-bulletin": b.bulletinId },
      el("div", { class: "title", "data-code": b.reasonDetail.code }, `${t("bulletin.title")} · ${b.subject}`),
      el("div", {}, b.summary), el("div", { class: "meta" }, t("bulletin.until", { until: new Date(b.expiresAt).toLocaleString(document.documentElement.lang || undefined, { dateStyle: "short", timeStyle: "short" }) }))));
  }
  // The registration (make and colour: a cloned plate shows here) or the licence, in the
  // daemon's words, which say whether the list holds every document or only the invalid ones.
  for (const d of [answer.registration, answer.licence].filter(Boolean)) {
    const r = d.record ?? {};
    const fields = [["vehicle", r.make ? `${r.make} ${r.model ?? ""} (${r.vehicleKind})` : undefined], ["colour", r.colour],
      ["classes", r.classes], ["validUntil", r.validUntil], ["reason", r.reason]];
    body.append(el("div", { class: `document ${d.valid === false ? "invalid" : ""}`, "data-list": d.list, "data-status": d.status },
      el("p", { "data-code": d.statement.code }, d.statement.message),
      el("dl", {}, fields.filter(([, v]) => v).map(([k, v]) => [el("dt", {}, t(`field.${k}`)), el("dd", {}, v)]))));
  }
  if (answer.confirmBeforeActing) {
    body.append(el("p", { class: "confirm" }, t("answer.confirm")));
    const ask = el("button", { type: "button", class: "ask" }, t("confirm.ask"));
    const box = el("div", { class: "confirmation", "data-check": answer.checkId }, ask, el("span", { class: "result" }));
    ask.addEventListener("click", async () => {
      try { showConfirmation(await api("POST", `/v1/checks/${answer.checkId}/confirm`, { urgent: true })); } catch (error) { flash(error.message); }
    });
    body.append(box);
  }
  for (const list of answer.lists) {
    for (const match of list.matches) body.append(renderMatch(answer, match));
    const version = list.version;
    const state = version.version === 0 ? ` · ${t("answer.never")}` : version.stale ? ` · ${t("answer.stale")}` : "";
    body.append(el("p", { class: "meta" }, t("answer.list", { list: t(`list.${list.list}`), version: version.version, age: age(version.ageSeconds) }) + state));
  }
  // The daemon's words, in the language this screen asked for (Accept-Language); the code
  // stays on the element for styling and tests.
  const warnings = answer.warningDetails ?? [];
  if (warnings.length) body.append(el("ul", { class: "warnings" }, warnings.map((w) => el("li", { "data-code": w.code }, w.message))));
}

function renderMatch(answer, match) {
  const box = el("div", { class: "match" }, el("p", { "data-code": match.reasonDetail.code }, match.reasonDetail.message));
  if (match.differences?.length) {
    // The entered plate, character by character, the positions that differ marked.
    const entered = answer.query.normalized;
    const positions = new Set(match.differences.map((d) => d.position));
    const row = (label, text) => el("div", { class: "plate-compare" }, `${label} `,
      [...text].map((ch, i) => el("span", positions.has(i + 1) ? { class: "diff" } : {}, ch)));
    const listed = [...entered].map((ch, i) => match.differences.find((d) => d.position === i + 1)?.listed ?? ch).join("");
    box.append(row(t("answer.entered"), entered), row(t("answer.listed"), listed));
  }
  const record = match.record.stolenVehicle ?? match.record.wantedPerson ?? match.record.missingPerson ?? {};
  const fields = match.record.stolenVehicle
    ? [["plate", record.plate], ["vehicle", `${record.make} ${record.model} (${record.vehicleKind})`], ["colour", record.colour], ["vin", record.vin],
       ["engineNumber", record.engineNumber], ["reportedAt", record.reportedAt], ["caseNumber", record.caseNumber], ["reportingUnit", record.reportingUnit]]
    : match.record.wantedPerson
      ? [["name", record.name], ["idNumber", record.idNumber], ["dateOfBirth", record.dateOfBirth], ["sex", record.sex], ["offence", record.offence],
         ["warrantNumber", record.warrantNumber], ["issuingAuthority", record.issuingAuthority]]
      : [["name", record.name], ["idNumber", record.idNumber], ["dateOfBirth", record.dateOfBirth], ["sex", record.sex],
         ["missingSince", record.missingSince], ["description", record.description], ["contactUnit", record.contactUnit]];
  const photos = record.photos ?? [];
  if (photos.length) box.append(el("div", { class: "photos" }, photos.map(renderPhoto)));
  box.append(el("dl", {}, fields.filter(([, v]) => v).map(([k, v]) => [el("dt", {}, t(`field.${k}`)), el("dd", {}, v)])));
  return box;
}

// The center's answer to a confirmation request, on the card of its check (if shown).
function showConfirmation(confirmation) {
  const box = $(`#answer .confirmation[data-check="${confirmation.checkId}"]`);
  if (!box) {
    if (confirmation.state === "overdue") flash(t("confirm.overdue"), "bad");
    return;
  }
  const state = confirmation.answer?.state ?? confirmation.state;
  box.dataset.state = state;
  $(".ask", box).hidden = true;
  $(".result", box).textContent = t(`confirm.${state}`);
}

// MARK: Photos

// A listed person's photo beside the record: loaded through the bridge with the token (an
// <img src> could not send it) and shown from a blob: URL; one not on the terminal yet
// waits for its photo-available event (the daemon fetches a hit's photos at once).
function renderPhoto(photo) {
  const figure = el("figure", { class: "photo", "data-sha256": photo.sha256, "data-kind": photo.kind },
    el("div", { class: "photo-wait" }, t("photo.waiting")), el("figcaption", {}, t(`photo.${photo.kind}`)));
  if (photo.onDevice) loadPhoto(figure);
  return figure;
}

async function loadPhoto(figure) {
  const sha = figure.dataset.sha256;
  let response;
  try {
    response = await fetch(`/v1/photos/${sha}`, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  } catch { return; }
  if (!response.ok || response.headers.get("Content-Type") !== "image/jpeg") return;
  const image = el("img", { src: URL.createObjectURL(await response.blob()), alt: t(`photo.${figure.dataset.kind}`) });
  image.addEventListener("load", () => URL.revokeObjectURL(image.src), { once: true });
  figure.dataset.loaded = "true";
  $(".photo-wait", figure)?.replaceWith(image);
}

function photoArrived(sha) {
  for (const figure of $$(`#answer figure.photo[data-sha256="${sha}"]`)) if (!figure.dataset.loaded) loadPhoto(figure);
}

// MARK: Dispatches and history

const next = { received: ["en-route", "cleared"], "en-route": ["on-scene", "cleared"], "on-scene": ["cleared"], cleared: [] };

async function loadDispatches() {
  let list;
  try { list = (await api("GET", "/v1/dispatches")).dispatches; } catch { return; }
  const ul = $("#dispatches");
  ul.replaceChildren(...(list.length ? [] : [el("li", {}, t("dispatch.none"))]));
  for (const dispatch of list) {
    const item = el("li", { class: `dispatch ${dispatch.priority}`, "data-id": dispatch.id },
      el("div", {}, el("span", { class: "state" }, t(`dispatch.${dispatch.status}`)), ` · ${dispatch.priority} · ${dispatch.summary}`),
      el("div", { class: "meta" }, dispatch.createdAt));
    const actions = el("div", { class: "actions" });
    for (const status of next[dispatch.status] ?? []) {
      const button = el("button", { type: "button", "data-status": status }, t(`dispatch.${status}`));
      button.addEventListener("click", async () => {
        const body = { status };
        if (status === "cleared") {
          const disposition = prompt(t("dispatch.disposition"));
          if (!disposition) return;
          body.disposition = disposition;
        }
        try { await api("POST", `/v1/dispatches/${dispatch.id}/status`, body); } catch (error) { alert(error.message); }
        loadDispatches();
      });
      actions.append(button);
    }
    item.append(actions);
    ul.append(item);
  }
}

async function loadHistory() {
  let checks;
  try { checks = (await api("GET", "/v1/checks?limit=20")).checks; } catch { return; }
  $("#history").replaceChildren(...(checks.length ? checks.map((c) =>
    el("li", { class: c.outcome }, `${c.checkedAt.replace("T", " ").slice(0, 19)} · ${c.kind} · ${c.query} · ${t(`outcome.${c.outcome}`)}`))
    : [el("li", {}, t("history.none"))]));
}

function wireTabs() {
  for (const button of $$("nav button[data-tab]")) {
    button.addEventListener("click", () => {
      for (const b of $$("nav button[data-tab]")) b.classList.toggle("active", b === button);
      for (const tab of $$(".tab")) tab.hidden = tab.id !== `tab-${button.dataset.tab}`;
      if (button.dataset.tab === "dispatch") loadDispatches();
      if (button.dataset.tab === "history") loadHistory();
    });
  }
  $("#sync-now").addEventListener("click", async () => {
    try { await api("POST", "/v1/sync"); flash(t("status.syncRequested")); } catch (error) { flash(error.message); }
  });
}

// "Officer needs help": one press raises it (nothing to confirm: it may be pressed in a
// struggle); cancelling asks for the PIN.
function wireEmergency() {
  $("#emergency").addEventListener("click", async () => {
    const button = $("#emergency");
    try {
      if (button.classList.contains("active")) {
        const pin = prompt(t("emergency.cancelPin"));
        if (!pin) return;
        await api("POST", "/v1/emergency/cancel", { pin });
      } else {
        await api("POST", "/v1/emergency");
      }
    } catch (error) { flash(error.message); }
    refreshStatus();
  });
}

translatePage();
wireSignIn();
wireChecks();
wireTabs();
wireEmergency();
route();
followEvents();
setInterval(refreshStatus, 15000);
