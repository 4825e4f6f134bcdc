// The experiment page (paper Fig. 8). All state lives on the server (derived from the responses
// file); this page only remembers the subject id (localStorage or ?subject=S01) and re-fetches
// the state on load, so a reload resumes at the first unanswered pair.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY = "i2pa-subject";
let S = null;          // state from GET /api/subject/<id>
let pos = 0;           // index of the trial on screen
let shownAt = null;    // performance.now() when both images were on screen
let busy = false;      // an answer is being sent
const pauseAck = {};   // session -> the subject pressed "continue" on its break screen

async function api(path, body) {
  const opts = body === undefined ? {} : {method: "POST", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json"}};
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({error: res.statusText}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function show(id) {
  for (const s of ["questionnaire", "trial", "pause", "done"]) $(s).hidden = s !== id;
}

async function boot() {
  const subject = new URLSearchParams(location.search).get("subject") || localStorage.getItem(KEY);
  if (!subject) return show("questionnaire");
  try {
    S = await api(`/api/subject/${encodeURIComponent(subject)}`);
  } catch (e) {
    localStorage.removeItem(KEY);
    return show("questionnaire");
  }
  localStorage.setItem(KEY, S.subject);
  $("question").textContent = S.question;
  const first = S.trials.findIndex((t) => !(t.pair_id in S.answers));
  goto(first < 0 ? S.trials.length : first);
}

async function submitQuestionnaire(event) {
  event.preventDefault();
  const radio = (name) => (document.querySelector(`input[name=${name}]:checked`) || {}).value;
  const body = {gender: radio("gender") || "", age: Number.parseInt($("age").value, 10),
    used_instagram: radio("used_instagram") === "yes",
    social_hours: Number.parseFloat($("social_hours").value)};
  if (!radio("gender") || !radio("used_instagram") || Number.isNaN(body.age)
      || Number.isNaN(body.social_hours)) {
    $("form-error").textContent = "Please answer all four questions.";
    return;
  }
  try {
    const {subject} = await api("/api/subjects", body);
    localStorage.setItem(KEY, subject);
    await boot();
  } catch (e) {
    $("form-error").textContent = e.message;
  }
}

const nSessions = () => Math.max(...S.trials.map((t) => t.session));

function overTime(session) {
  const started = S.session_started[String(session)];
  return session > 0 && started !== undefined
    && Date.now() - Date.parse(started) > S.session_minutes * 60000;
}

function pauseReason(t, prev) {
  if (pauseAck[t.session] || t.pair_id in S.answers) return null;
  if (!prev) return ["Training", `First ${S.trials.filter((x) => x.session === 0).length} `
    + "practice pairs: after each one you will see which picture got more likes."];
  if (prev.session !== t.session && prev.session === 0) return ["Training finished",
    "The experiment starts now. There is no feedback from here on."];
  if (prev.session !== t.session) return [`Session ${prev.session} of ${nSessions()} finished`,
    "Take a break. Continue when you are ready."];
  if (overTime(t.session)) return ["Time for a break",
    `You have worked on this session for ${S.session_minutes} minutes. Continue when ready.`];
  return null;
}

function goto(i) {
  pos = i;
  $("error").textContent = "";
  if (i >= S.trials.length) return show("done");
  const t = S.trials[i];
  const reason = pauseReason(t, S.trials[i - 1]);
  if (reason) {
    [$("pause-title").textContent, $("pause-text").textContent] = reason;
    return show("pause");
  }
  render(t);
}

function render(t) {
  show("trial");
  const group = S.trials.filter((x) => x.session === t.session);
  const k = group.indexOf(t);
  const done = group.filter((x) => x.pair_id in S.answers).length;
  $("phase").textContent = t.session === 0 ? "Training" : `Session ${t.session} of ${nSessions()}`;
  $("progress").textContent = `Pair ${k + 1} of ${group.length}`;
  [$("bar").max, $("bar").value] = [group.length, done];
  $("feedback").textContent = "";
  $("prev").disabled = pos === 0 || S.trials[pos - 1].session !== t.session;
  $("next").disabled = !(t.pair_id in S.answers);
  markChosen(S.answers[t.pair_id]);
  shownAt = null;
  $("trial").dataset.ready = "0";
  $("left-img").src = t.left_url;
  $("right-img").src = t.right_url;
  Promise.all([$("left-img").decode(), $("right-img").decode()]).then(() => {
    if (S.trials[pos] !== t) return;
    shownAt = performance.now();
    $("trial").dataset.ready = "1";
  }, () => { $("error").textContent = "An image failed to load; please reload the page."; });
}

function markChosen(side) {
  $("left").classList.toggle("chosen", side === "left");
  $("right").classList.toggle("chosen", side === "right");
}

async function choose(side) {
  if (busy || shownAt === null) return;
  const t = S.trials[pos];
  busy = true;
  try {
    const r = await api("/api/answer", {subject: S.subject, pair_id: t.pair_id, side,
      rt_ms: Math.round(performance.now() - shownAt)});
    S.answers[t.pair_id] = side;
    if (!(String(t.session) in S.session_started)) {
      S.session_started[String(t.session)] = new Date().toISOString();
    }
    markChosen(side);
    $("next").disabled = false;
    if (t.session === 0) showFeedback(r);
    else goto(pos + 1);
  } catch (e) {
    $("error").textContent = e.message;
  } finally {
    busy = false;
  }
}

function showFeedback(r) {
  $("feedback").textContent = `${r.correct ? "Correct!" : "Not this time."} Left: `
    + `${r.likes_left.toLocaleString()} likes, right: ${r.likes_right.toLocaleString()} likes.`;
  $("feedback").className = r.correct ? "right-answer" : "wrong-answer";
}

async function showReview() {
  const r = await api(`/api/review/${encodeURIComponent(S.subject)}`);
  const pct = (100 * r.n_correct / r.n_pairs).toFixed(1);
  $("review-summary").textContent = `You picked the picture with more likes in ${r.n_correct} `
    + `of ${r.n_pairs} pairs (${pct} %).`;
  const body = $("review").querySelector("tbody");
  body.replaceChildren(...r.pairs.map((p, i) => reviewRow(p, i)));
  $("review").hidden = false;
}

function reviewRow(p, i) {
  const tr = document.createElement("tr");
  const cell = (content) => {
    const td = document.createElement("td");
    if (typeof content === "string") td.textContent = content; else td.append(content);
    tr.append(td);
    return td;
  };
  const img = (src) => Object.assign(document.createElement("img"), {src, alt: ""});
  cell(String(i + 1)); cell(img(p.left_url)); cell(img(p.right_url)); cell(p.side);
  cell(`${p.likes_left.toLocaleString()} / ${p.likes_right.toLocaleString()}`);
  cell(p.correct ? "\u2713" : "\u2717").className = p.correct ? "right-answer" : "wrong-answer";
  return tr;
}

$("form").addEventListener("submit", submitQuestionnaire);
$("left").addEventListener("click", () => choose("left"));
$("right").addEventListener("click", () => choose("right"));
$("prev").addEventListener("click", () => { pauseAck[S.trials[pos].session] = true; goto(pos - 1); });
$("next").addEventListener("click", () => goto(pos + 1));
$("continue").addEventListener("click", () => {
  pauseAck[S.trials[pos].session] = true;
  render(S.trials[pos]);
});
$("show-review").addEventListener("click", () => showReview().catch((e) => {
  $("error").textContent = e.message;
}));
boot();
