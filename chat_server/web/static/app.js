// roomchat's web page: an IRC client over WebSocket (subprotocol text.ircv3.net).
// Plain modern JavaScript, no build step, nothing fetched from elsewhere. Every piece
// of text from the server is inserted with textContent, never as HTML.
"use strict";

const WANTED_CAPS = ["server-time", "message-tags", "batch", "draft/chathistory",
  "echo-message", "away-notify", "multi-prefix"];
const HISTORY_PAGE = 50;
const MAX_BACKOFF_MS = 30000;

const $ = (id) => document.getElementById(id);

const state = {
  ws: null,
  nick: "",
  wantedNick: "",
  registered: false,
  caps: new Set(),
  rooms: new Map(),      // folded name -> buffer
  current: null,         // folded name of the buffer on screen
  batches: new Map(),    // batch ref -> {target, lines}
  retries: 0,
  retryTimer: null,
  seq: 0,
  lowSeq: 0,
};

// -- IRC lines ------------------------------------------------------------------

function unescapeTag(value) {
  return value.replace(/\\(.)?/g, (_, c) =>
    c === ":" ? ";" : c === "s" ? " " : c === "r" ? "\r" : c === "n" ? "\n" : (c || ""));
}

function parseLine(line) {
  const msg = { tags: {}, source: "", command: "", params: [] };
  let rest = line;
  if (rest.startsWith("@")) {
    const sp = rest.indexOf(" ");
    for (const part of rest.slice(1, sp).split(";")) {
      const eq = part.indexOf("=");
      if (eq < 0) msg.tags[part] = "";
      else msg.tags[part.slice(0, eq)] = unescapeTag(part.slice(eq + 1));
    }
    rest = rest.slice(sp + 1).replace(/^ +/, "");
  }
  if (rest.startsWith(":")) {
    const sp = rest.indexOf(" ");
    msg.source = rest.slice(1, sp);
    rest = rest.slice(sp + 1).replace(/^ +/, "");
  }
  while (rest.length) {
    if (rest.startsWith(":")) { msg.params.push(rest.slice(1)); break; }
    const sp = rest.indexOf(" ");
    if (sp < 0) { msg.params.push(rest); break; }
    msg.params.push(rest.slice(0, sp));
    rest = rest.slice(sp + 1).replace(/^ +/, "");
  }
  const first = msg.params.shift();
  msg.command = (first || "").toUpperCase();
  return msg;
}

function nickOf(source) {
  const bang = source.indexOf("!");
  return bang < 0 ? source : source.slice(0, bang);
}

function fold(name) {
  return name.toLowerCase();
}

function isRoom(name) {
  return name.startsWith("#") || name.startsWith("&");
}

function send(line) {
  // One IRC line per WebSocket message; CR and LF would end the line early.
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(line.replace(/[\r\n\0]/g, " "));
  }
}

// -- buffers ----------------------------------------------------------------------

function buffer(name) {
  const key = fold(name);
  let buf = state.rooms.get(key);
  if (!buf) {
    const log = document.createElement("div");
    log.className = "log";
    log.dataset.room = name;
    log.hidden = true;
    $("messages").appendChild(log);
    buf = { name, key, lines: [], msgids: new Set(), members: new Map(), topic: "",
            unread: 0, mention: false, joined: false, loading: false, complete: false, log };
    state.rooms.set(key, buf);
    renderRoomList();
    if (!state.current) show(key);
  }
  return buf;
}

function show(key) {
  const buf = state.rooms.get(key);
  if (!buf) return;
  for (const other of state.rooms.values()) other.log.hidden = other !== buf;
  state.current = key;
  buf.unread = 0;
  buf.mention = false;
  $("room-name").textContent = buf.name;
  $("room-topic").textContent = buf.topic;
  $("room-topic").title = buf.topic;
  document.body.classList.remove("show-rooms", "show-members");
  renderRoomList();
  renderMembers();
  scrollToEnd();
  saveRooms();
}

function dropBuffer(key) {
  const buf = state.rooms.get(key);
  if (!buf) return;
  buf.log.remove();
  state.rooms.delete(key);
  if (state.current === key) {
    state.current = null;
    const next = state.rooms.keys().next();
    if (!next.done) show(next.value);
    else { $("room-name").textContent = ""; $("room-topic").textContent = ""; }
  }
  renderRoomList();
  renderMembers();
  saveRooms();
}

function saveRooms() {
  const rooms = [...state.rooms.values()].filter((b) => isRoom(b.name)).map((b) => b.name);
  localStorage.setItem("roomchat.rooms", JSON.stringify(rooms));
}

function savedRooms() {
  try {
    const rooms = JSON.parse(localStorage.getItem("roomchat.rooms") || "[]");
    return Array.isArray(rooms) && rooms.length ? rooms.filter((r) => typeof r === "string")
                                                : ["#lobby"];
  } catch (_) {
    return ["#lobby"];
  }
}

// -- rendering --------------------------------------------------------------------

// Twelve hues far enough apart to tell nicks by, all dark enough to read on white.
const NICK_COLOURS = ["#c0392b", "#d35400", "#a0740a", "#5d8a00", "#1e8449", "#138d75",
  "#1f7a99", "#2e5fc1", "#5b43c9", "#8e44ad", "#b03a7a", "#7b5a36"];

function nickColour(nick) {
  // Stable per nick: the same colour in every room, every session, every browser.
  // FNV-1a, so that nicks differing by a letter land far apart.
  let hash = 0x811c9dc5;
  for (const ch of fold(nick)) hash = Math.imul(hash ^ ch.codePointAt(0), 0x01000193) >>> 0;
  return NICK_COLOURS[hash % NICK_COLOURS.length];
}

function timeLabel(when) {
  // 24-hour HH:MM, as the plain-mode users see it: narrow and the same everywhere.
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}

function lineElement(line) {
  const row = document.createElement("div");
  row.className = `msg ${line.kind}`;
  if (line.mention) row.classList.add("mention");
  const time = document.createElement("time");
  time.className = "time";
  time.dateTime = line.when.toISOString();
  time.textContent = timeLabel(line.when);
  time.title = line.when.toLocaleString();
  const body = document.createElement("span");
  body.className = "body";
  if (line.kind !== "event") {
    const nick = document.createElement("span");
    nick.className = "nick";
    nick.textContent = line.nick;
    nick.style.color = nickColour(line.nick);
    if (line.kind === "action") body.append("* ");
    body.append(nick, " ");
  }
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = line.text;
  body.appendChild(text);
  row.append(time, body);
  return row;
}

function atEnd(el) {
  return el.scrollHeight - el.scrollTop - el.clientHeight < 40;
}

function scrollToEnd() {
  const el = $("messages");
  el.scrollTop = el.scrollHeight;
}

function addLine(buf, line) {
  if (line.msgid) {
    if (buf.msgids.has(line.msgid)) return;
    buf.msgids.add(line.msgid);
  }
  line.seq = state.seq++;
  const view = $("messages");
  const follow = buf.key === state.current && atEnd(view);
  const last = buf.lines[buf.lines.length - 1];
  if (!last || last.when <= line.when) {
    buf.lines.push(line);
    buf.log.appendChild(lineElement(line));
  } else {
    buf.lines.push(line);
    rebuild(buf);
  }
  if (buf.key !== state.current && !line.history && line.kind !== "event") {
    buf.unread += 1;
    if (line.mention || !isRoom(buf.name)) buf.mention = true;
    renderRoomList();
  }
  if (follow) scrollToEnd();
}

function rebuild(buf) {
  buf.lines.sort((a, b) => (a.when - b.when) || (a.seq - b.seq));
  buf.log.replaceChildren(...buf.lines.map(lineElement));
}

function mergeHistory(buf, lines, older) {
  const view = $("messages");
  const fromEnd = view.scrollHeight - view.scrollTop;
  const follow = atEnd(view);
  let added = 0;
  // History is older than what is on screen: among lines of the same millisecond it
  // sorts first, in the order the server gave.
  state.lowSeq -= lines.length;
  lines.forEach((line, i) => {
    if (line.msgid && buf.msgids.has(line.msgid)) return;
    if (line.msgid) buf.msgids.add(line.msgid);
    line.seq = state.lowSeq + i;
    buf.lines.push(line);
    added += 1;
  });
  if (added) rebuild(buf);
  if (buf.key !== state.current) return;
  if (older && !follow) view.scrollTop = view.scrollHeight - fromEnd;
  else scrollToEnd();
}

function system(text, target) {
  const buf = target ? buffer(target) : state.rooms.get(state.current);
  if (!buf) {
    $("status").textContent = text;
    return;
  }
  addLine(buf, { kind: "event", nick: "", text, when: new Date(), msgid: "" });
}

function renderRoomList() {
  const list = $("room-list");
  const items = [];
  for (const buf of state.rooms.values()) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "room";
    button.dataset.room = buf.name;
    if (buf.key === state.current) button.classList.add("current");
    if (buf.mention) button.classList.add("mentioned");
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = buf.name;
    button.appendChild(name);
    if (buf.unread) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = buf.unread > 99 ? "99+" : String(buf.unread);
      button.appendChild(badge);
    }
    button.addEventListener("click", () => { show(buf.key); $("input").focus(); });
    item.appendChild(button);
    items.push(item);
  }
  list.replaceChildren(...items);
  const unread = [...state.rooms.values()].reduce((n, b) => n + b.unread, 0);
  document.title = unread ? `(${unread}) roomchat` : "roomchat";
  $("toggle-rooms").textContent = unread ? `Rooms (${unread})` : "Rooms";
}

const PREFIX_ORDER = "~&@%+";

function renderMembers() {
  const buf = state.rooms.get(state.current);
  const members = buf ? [...buf.members.entries()] : [];
  members.sort(([a, pa], [b, pb]) => {
    const ra = pa ? PREFIX_ORDER.indexOf(pa[0]) : 9;
    const rb = pb ? PREFIX_ORDER.indexOf(pb[0]) : 9;
    return (ra - rb) || fold(a).localeCompare(fold(b));
  });
  $("member-list").replaceChildren(...members.map(([nick, prefix]) => {
    const item = document.createElement("li");
    item.className = "member";
    const mark = document.createElement("span");
    mark.className = "prefix";
    mark.textContent = prefix ? prefix[0] : "";
    const name = document.createElement("span");
    name.className = "nick";
    name.textContent = nick;
    name.style.color = nickColour(nick);
    item.append(mark, name);
    item.addEventListener("click", () => {
      const input = $("input");
      input.value = `${input.value}${input.value ? " " : ""}${nick}: `;
      input.focus();
    });
    return item;
  }));
  $("member-count").textContent = buf && isRoom(buf.name) ? `(${members.length})` : "";
}

// -- what the server says -----------------------------------------------------------

function when(msg) {
  const t = msg.tags.time ? new Date(msg.tags.time) : new Date();
  return Number.isNaN(t.getTime()) ? new Date() : t;
}

function mentions(text) {
  if (!state.nick) return false;
  const escaped = state.nick.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\w])${escaped}($|[^\\w])`, "i").test(text);
}

function chatLine(msg) {
  const from = nickOf(msg.source);
  let text = msg.params[1] || "";
  let kind = msg.command === "NOTICE" ? "notice" : "chat";
  if (text.startsWith("\x01ACTION ") || text === "\x01ACTION\x01") {
    kind = "action";
    text = text.slice(8).replace(/\x01$/, "");
  } else if (text.startsWith("\x01")) {
    return null; // other CTCP: not for people to read
  }
  const self = fold(from) === fold(state.nick);
  return { kind, nick: from, text, when: when(msg), msgid: msg.tags.msgid || "",
           mention: !self && mentions(text), history: Boolean(msg.tags.batch) };
}

function targetOf(msg) {
  const target = msg.params[0] || "";
  if (isRoom(target)) return target;
  const from = nickOf(msg.source);
  // A private message: the buffer is the other person, whichever way it went.
  return fold(from) === fold(state.nick) ? target : from;
}

function eventLine(msg, text) {
  return { kind: "event", nick: "", text, when: when(msg), msgid: msg.tags.msgid || "",
           history: Boolean(msg.tags.batch) };
}

function onMessage(msg) {
  const batch = msg.tags.batch && state.batches.get(msg.tags.batch);
  if (batch && (msg.command === "PRIVMSG" || msg.command === "NOTICE")) {
    const line = chatLine(msg);
    if (line) batch.lines.push(line);
    return;
  }
  const from = nickOf(msg.source);
  const self = fold(from) === fold(state.nick);
  switch (msg.command) {
    case "PING":
      send(`PONG :${msg.params[0] || ""}`);
      break;
    case "CAP":
      onCap(msg);
      break;
    case "001":
      state.registered = true;
      state.nick = msg.params[0];
      state.retries = 0;
      localStorage.setItem("roomchat.nick", state.nick);
      $("my-nick").textContent = state.nick;
      setStatus("");
      $("login").hidden = true;
      $("app").hidden = false;
      {
        // Back in every room open on the page (after a reconnect), or the saved ones.
        const open = [...state.rooms.values()].filter((b) => isRoom(b.name)).map((b) => b.name);
        const rooms = new Map((open.length ? open : savedRooms()).map((r) => [fold(r), r]));
        for (const room of rooms.values()) send(`JOIN ${room}`);
      }
      if (document.activeElement !== $("join-input")) $("input").focus();
      break;
    case "433":
    case "432":
      if (!state.registered) {
        if (msg.command === "433" && state.nickTries < 1) {
          state.nickTries += 1;
          // The nick is taken: try with a suffix once, then ask.
          state.wantedNick = `${state.wantedNick}_`;
          send(`NICK ${state.wantedNick}`);
        } else {
          loginError(msg.params[2] || "That nickname cannot be used.");
        }
      } else {
        system(msg.params[2] || "That nickname cannot be used.");
      }
      break;
    case "JOIN": {
      const room = msg.params[0];
      const buf = buffer(room);
      if (self) {
        buf.joined = true;
        buf.members.clear();
        if (!batch) {
          addLine(buf, eventLine(msg, `You joined ${room}`));
          show(buf.key);
        }
        if (state.caps.has("draft/chathistory")) {
          buf.loading = true;
          send(`CHATHISTORY LATEST ${room} * ${HISTORY_PAGE}`);
        }
      } else {
        buf.members.set(from, "");
        addLine(buf, eventLine(msg, `${from} joined`));
      }
      if (buf.key === state.current) renderMembers();
      break;
    }
    case "PART":
    case "KICK": {
      const room = msg.params[0];
      const who = msg.command === "KICK" ? msg.params[1] : from;
      const buf = state.rooms.get(fold(room));
      if (!buf) break;
      if (fold(who) === fold(state.nick)) {
        if (msg.command === "KICK") {
          buf.joined = false;
          system(`${from} removed you from ${room}: ${msg.params[2] || ""}`, room);
        } else {
          dropBuffer(buf.key);
        }
        break;
      }
      buf.members.delete(findMember(buf, who));
      const why = msg.params[msg.command === "KICK" ? 2 : 1];
      const text = msg.command === "KICK" ? `${who} was removed by ${from}` : `${who} left`;
      addLine(buf, eventLine(msg, why ? `${text} (${why})` : text));
      if (buf.key === state.current) renderMembers();
      break;
    }
    case "QUIT":
      for (const buf of state.rooms.values()) {
        const member = findMember(buf, from);
        if (member === undefined) continue;
        buf.members.delete(member);
        addLine(buf, eventLine(msg, `${from} quit${msg.params[0] ? ` (${msg.params[0]})` : ""}`));
      }
      renderMembers();
      break;
    case "NICK": {
      const to = msg.params[0];
      if (self) {
        state.nick = to;
        localStorage.setItem("roomchat.nick", to);
        $("my-nick").textContent = to;
      }
      for (const buf of state.rooms.values()) {
        const member = findMember(buf, from);
        if (member === undefined) continue;
        const prefix = buf.members.get(member);
        buf.members.delete(member);
        buf.members.set(to, prefix);
        addLine(buf, eventLine(msg, `${from} is now ${to}`));
      }
      renderMembers();
      break;
    }
    case "PRIVMSG":
    case "NOTICE": {
      const target = msg.params[0] || "";
      if (!msg.source.includes("!") && !isRoom(target)) {
        system(msg.params[1] || ""); // a server notice
        break;
      }
      const line = chatLine(msg);
      if (line) addLine(buffer(targetOf(msg)), line);
      break;
    }
    case "TOPIC":
    case "332": {
      const room = msg.command === "TOPIC" ? msg.params[0] : msg.params[1];
      const topic = msg.command === "TOPIC" ? msg.params[1] || "" : msg.params[2] || "";
      const buf = buffer(room);
      buf.topic = topic;
      if (msg.command === "TOPIC") {
        addLine(buf, eventLine(msg, `${from} set the topic: ${topic}`));
      }
      if (buf.key === state.current) {
        $("room-topic").textContent = topic;
        $("room-topic").title = topic;
      }
      break;
    }
    case "353": {
      const buf = buffer(msg.params[2]);
      if (!buf.namesFresh) { buf.members.clear(); buf.namesFresh = true; }
      for (const entry of (msg.params[3] || "").split(" ")) {
        const match = /^([~&@%+]*)(.+)$/.exec(entry);
        if (match) buf.members.set(nickOf(match[2]), match[1]);
      }
      break;
    }
    case "366": {
      const buf = state.rooms.get(fold(msg.params[1] || ""));
      if (buf) buf.namesFresh = false;
      renderMembers();
      break;
    }
    case "BATCH":
      onBatch(msg);
      break;
    case "305":
    case "306":
      system(msg.params[1] || "");
      break;
    case "ERROR":
      setStatus(msg.params[0] || "Disconnected");
      break;
    case "FAIL":
      system(msg.params[msg.params.length - 1] || "Refused");
      break;
    case "422": // no MOTD: nothing to tell a person
      break;
    default:
      if (/^[45]\d\d$/.test(msg.command)) system(msg.params[msg.params.length - 1] || "");
  }
}

function findMember(buf, nick) {
  for (const member of buf.members.keys()) if (fold(member) === fold(nick)) return member;
  return undefined;
}

function onCap(msg) {
  const sub = (msg.params[1] || "").toUpperCase();
  if (sub === "LS") {
    const last = msg.params[2] !== "*";
    const offered = (msg.params[last ? 2 : 3] || "").split(" ").map((c) => c.split("=")[0]);
    state.offered = (state.offered || []).concat(offered);
    if (!last) return;
    const want = WANTED_CAPS.filter((c) => state.offered.includes(c));
    if (want.length) send(`CAP REQ :${want.join(" ")}`);
    else send("CAP END");
  } else if (sub === "ACK") {
    for (const cap of (msg.params[2] || "").split(" ")) if (cap) state.caps.add(cap);
    send("CAP END");
  } else if (sub === "NAK") {
    send("CAP END");
  }
}

function onBatch(msg) {
  const ref = msg.params[0] || "";
  if (ref.startsWith("+")) {
    state.batches.set(ref.slice(1), { type: msg.params[1], target: msg.params[2] || "",
                                      lines: [], older: false });
    return;
  }
  const batch = state.batches.get(ref.slice(1));
  state.batches.delete(ref.slice(1));
  if (!batch || batch.type !== "chathistory") return;
  const buf = state.rooms.get(fold(batch.target)) ||
              (batch.lines.length ? buffer(batch.target) : null);
  if (!buf) return;
  const older = buf.loading === "before";
  buf.loading = false;
  if (batch.lines.length < HISTORY_PAGE) buf.complete = true;
  for (const line of batch.lines) line.history = true;
  mergeHistory(buf, batch.lines, older);
}

// -- the connection -------------------------------------------------------------------

function socketUrl() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/irc`;
}

function setStatus(text) {
  $("status").textContent = text;
  document.body.classList.toggle("offline", Boolean(text));
}

function connect() {
  clearTimeout(state.retryTimer);
  state.registered = false;
  state.nickTries = 0;
  state.caps = new Set();
  state.offered = [];
  state.batches.clear();
  const ws = new WebSocket(socketUrl(), ["text.ircv3.net"]);
  state.ws = ws;
  setStatus("Connecting…");
  ws.addEventListener("open", () => {
    setStatus("");
    send("CAP LS 302");
    send(`NICK ${state.wantedNick}`);
    send(`USER ${state.wantedNick.replace(/[^A-Za-z0-9]/g, "").slice(0, 10) || "web"} 0 * :roomchat web`);
  });
  ws.addEventListener("message", (event) => {
    if (typeof event.data === "string") onMessage(parseLine(event.data));
  });
  ws.addEventListener("close", (event) => {
    if (state.ws !== ws) return;
    state.ws = null;
    if (state.loginFailed) return;
    for (const buf of state.rooms.values()) buf.joined = false;
    // Back off: 1 s, 2 s, 4 s ... up to 30 s, with jitter so a restart is not stampeded.
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** state.retries) * (0.75 + Math.random() / 2);
    state.retries += 1;
    const reason = event.reason ? `${event.reason}. ` : "";
    setStatus(`${reason}Reconnecting in ${Math.round(delay / 1000)} s…`);
    state.retryTimer = setTimeout(connect, delay);
  });
}

function loginError(text) {
  state.loginFailed = true;
  $("login-error").textContent = text;
  $("login").hidden = false;
  $("app").hidden = true;
  if (state.ws) state.ws.close();
}

// -- what the person types ------------------------------------------------------------

const COMMANDS = {
  join: { usage: "/join #room", run: (args) => args[0] ? join(roomName(args[0])) : usage("join") },
  part: { usage: "/part [#room] [reason]", run: (args) => {
    const buf = state.rooms.get(state.current);
    const room = args[0] && isRoom(args[0]) ? args.shift() : buf && buf.name;
    if (!room) return;
    if (isRoom(room)) send(`PART ${room}${args.length ? ` :${args.join(" ")}` : ""}`);
    else dropBuffer(fold(room));
  } },
  msg: { usage: "/msg nick text", run: (args) => {
    if (args.length < 2) return usage("msg");
    const [to, ...words] = args;
    say(to, words.join(" "));
    if (!isRoom(to)) show(buffer(to).key);
  } },
  me: { usage: "/me does something", run: (args) => {
    const buf = state.rooms.get(state.current);
    if (buf) say(buf.name, args.join(" "), true);
  } },
  topic: { usage: "/topic [text]", run: (args) => {
    const buf = state.rooms.get(state.current);
    if (!buf) return;
    send(args.length ? `TOPIC ${buf.name} :${args.join(" ")}` : `TOPIC ${buf.name}`);
  } },
  nick: { usage: "/nick newnick", run: (args) => args[0] ? send(`NICK ${args[0]}`) : usage("nick") },
  away: { usage: "/away [reason]", run: (args) => send(args.length ? `AWAY :${args.join(" ")}` : "AWAY") },
  help: { usage: "/help", run: () => {
    system(`Commands: ${Object.values(COMMANDS).map((c) => c.usage).join(", ")}`);
  } },
};

function join(room) {
  const buf = state.rooms.get(fold(room));
  if (buf && buf.joined) show(buf.key);
  else send(`JOIN ${room}`);
}

function usage(name) {
  system(`Usage: ${COMMANDS[name].usage}`);
}

function roomName(name) {
  return isRoom(name) ? name : `#${name}`;
}

function say(target, text, action = false) {
  if (!text) return;
  const body = action ? `\x01ACTION ${text}\x01` : text;
  send(`PRIVMSG ${target} :${body}`);
  if (!state.caps.has("echo-message")) {
    addLine(buffer(target), { kind: action ? "action" : "chat", nick: state.nick, text,
                              when: new Date(), msgid: "" });
  }
}

function submit(text) {
  if (!text.trim()) return;
  if (text.startsWith("/") && !text.startsWith("//")) {
    const [name, ...args] = text.slice(1).split(/\s+/).filter((w, i) => i === 0 || w);
    const command = COMMANDS[name.toLowerCase()];
    if (command) command.run(args);
    else system(`Unknown command /${name}. Type /help for the list.`);
    return;
  }
  const buf = state.rooms.get(state.current);
  if (!buf) return system("Join a room first: /join #lobby");
  say(buf.name, text.startsWith("//") ? text.slice(1) : text);
}

function olderHistory() {
  const view = $("messages");
  const buf = state.rooms.get(state.current);
  if (!buf || view.scrollTop > 60 || buf.loading || buf.complete) return;
  if (!state.caps.has("draft/chathistory") || !isRoom(buf.name) && !buf.lines.length) return;
  const oldest = buf.lines.find((line) => line.msgid);
  if (!oldest) return;
  buf.loading = "before";
  send(`CHATHISTORY BEFORE ${buf.name} msgid=${oldest.msgid} ${HISTORY_PAGE}`);
}

function start() {
  const saved = localStorage.getItem("roomchat.nick") || "";
  $("nick-input").value = saved;
  $("nick-input").focus();
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const nick = $("nick-input").value.trim();
    if (!/^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/.test(nick)) {
      $("login-error").textContent =
        "A nickname is one word: letters, digits and - _ [ ] { } | ^ ` \\, not starting with a digit.";
      return;
    }
    $("login-error").textContent = "";
    state.loginFailed = false;
    state.wantedNick = nick;
    state.retries = 0;
    connect();
  });
  $("send-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("input");
    const text = input.value;
    input.value = "";
    submit(text);
  });
  $("join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("join-input").value.trim();
    $("join-input").value = "";
    if (value) join(roomName(value));
  });
  $("messages").addEventListener("scroll", olderHistory, { passive: true });
  $("toggle-rooms").addEventListener("click", () => {
    document.body.classList.remove("show-members");
    document.body.classList.toggle("show-rooms");
  });
  $("toggle-members").addEventListener("click", () => {
    document.body.classList.remove("show-rooms");
    document.body.classList.toggle("show-members");
  });
}

start();
