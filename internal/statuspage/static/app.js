// Tributary status page. Plain JavaScript, no build step: it polls the
// worker's REST API, the Prometheus scrape and the page's own /ui/api/
// endpoints, all on this origin, and redraws the sections in place.
'use strict';
(function () {
  const POLL_MS = 1500;
  const WINDOW_S = 300; // the charts show the last five minutes
  const API = 'api/'; // relative to /ui/
  const COLORS = ['#1f6feb', '#d4380d', '#1a7f37', '#8250df', '#bf8700', '#0a7ea4', '#cf222e', '#57606a'];

  // M holds the metric names the page reads.
  const M = {
    srcPos: 'tributary_filesource_file_position_bytes',
    srcSize: 'tributary_filesource_file_size_bytes',
    srcLag: 'tributary_filesource_file_lag_bytes',
    srcRead: 'tributary_filesource_file_read_bytes_total',
    sinkWritten: 'tributary_filesink_file_written_bytes_total',
    sinkPos: 'tributary_filesink_file_position_bytes',
    msgIn: 'kafka_server_brokertopicmetrics_messagesin_total',
    bytesIn: 'kafka_server_brokertopicmetrics_bytesin_total',
    bytesOut: 'kafka_server_brokertopicmetrics_bytesout_total',
  };

  // state is what the page knows; window.tributaryStatus shows it, for
  // tests and for the curious.
  const state = {
    cfg: null,
    ticks: 0,
    updated: null,
    connectors: null, connectorsErr: null,
    metrics: null, metricsErr: null,
    offsets: new Map(), // connector -> {entries} or {err}
    topics: null, topicsErr: null,
    groups: null, groupsErr: null,
    browse: null, browseErr: null,
    counters: new Map(), // rate key -> {t, v}: the previous sample of a counter
    topicRates: new Map(), // topic -> {in, bin, bout}: the broker's traffic
    charts: {},
  };
  window.tributaryStatus = state;

  // ---- small helpers ----

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-') || k === 'title' || k === 'colspan' || k === 'href') e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const k of kids.flat()) {
      if (k == null || k === false) continue;
      e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return e;
  }

  function section(id) {
    const s = document.getElementById(id);
    return { note: s.querySelector('.note'), body: s.querySelector('.body') };
  }

  // note shows text at the head of a section (an error when err), or hides it.
  function note(id, text, err) {
    const n = section(id).note;
    n.hidden = !text;
    n.textContent = text || '';
    n.classList.toggle('error', !!err);
  }

  function setBody(id, node) {
    section(id).body.replaceChildren(node);
  }

  const nf = new Intl.NumberFormat('en-US');
  function fmtInt(n) { return n == null || Number.isNaN(n) ? '–' : nf.format(Math.round(n)); }

  function fmtBytes(n) {
    if (n == null || Number.isNaN(n)) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    let v = n;
    while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    const digits = i === 0 ? (Number.isInteger(v) || Math.abs(v) >= 10 ? 0 : 1) : (Math.abs(v) < 10 ? 2 : 1);
    return v.toFixed(digits) + ' ' + units[i];
  }

  function fmtRate(n) { return n == null || Number.isNaN(n) ? '–' : fmtBytes(n) + '/s'; }

  function basename(p) {
    const s = String(p);
    const i = Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\'));
    return i >= 0 ? s.slice(i + 1) : s;
  }

  function stateBadge(s) { return el('span', { class: 'state ' + (s || ''), text: s || '–' }); }

  function num(value, shown, label) {
    return el('td', { class: 'num', 'data-label': label, 'data-value': value == null ? '' : String(value), title: value == null ? null : fmtInt(value) }, shown);
  }

  function td(label, ...kids) { return el('td', { 'data-label': label }, ...kids); }

  function table(cols, rows) {
    const head = el('tr', null, cols.map((c) => el('th', { class: c.startsWith('#') ? 'num' : '', text: c.replace(/^#/, '') })));
    return el('div', { class: 'scroll' }, el('table', { class: 'stack' }, el('thead', null, head), el('tbody', null, rows)));
  }

  function empty(text) { return el('p', { class: 'empty', text }); }

  async function getJSON(url) {
    const resp = await fetch(url, { cache: 'no-store', headers: { Accept: 'application/json' } });
    const text = await resp.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { /* not JSON */ }
    if (!resp.ok) {
      const msg = body && body.message ? body.message : text.trim().slice(0, 300) || resp.statusText;
      const err = new Error('HTTP ' + resp.status + ': ' + msg);
      err.status = resp.status;
      throw err;
    }
    return body;
  }

  function restURL(path) { return state.cfg.rest.replace(/\/+$/, '') + path; }

  // rate turns a counter (or a growing gauge) into a rate per second since
  // its previous sample; null for the first sample.
  function rate(key, v, t) {
    const prev = state.counters.get(key);
    state.counters.set(key, { t, v });
    if (!prev || t <= prev.t || v == null) return null;
    if (v < prev.v) return 0; // restarted
    return (v - prev.v) / ((t - prev.t) / 1000);
  }

  // ---- the Prometheus text format ----

  function parseValue(s) {
    if (s === '+Inf' || s === 'Inf') return Infinity;
    if (s === '-Inf') return -Infinity;
    return parseFloat(s);
  }

  // parseProm reads the text exposition format into name -> [{labels, value}].
  function parseProm(text) {
    const out = new Map();
    for (const raw of text.split('\n')) {
      const line = raw.trim();
      if (!line || line[0] === '#') continue;
      const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
      if (!m) continue;
      const name = m[0];
      let i = name.length;
      const labels = {};
      if (line[i] === '{') {
        i++;
        for (;;) {
          while (line[i] === ' ' || line[i] === ',') i++;
          if (i >= line.length || line[i] === '}') { i++; break; }
          const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(line.slice(i));
          if (!lm) { i = line.length; break; }
          i += lm[0].length;
          let v = '';
          while (i < line.length && line[i] !== '"') {
            if (line[i] === '\\' && i + 1 < line.length) {
              const c = line[i + 1];
              v += c === 'n' ? '\n' : c;
              i += 2;
            } else {
              v += line[i++];
            }
          }
          i++;
          labels[lm[1]] = v;
        }
      }
      const fields = line.slice(i).trim().split(/\s+/);
      if (!fields[0]) continue;
      if (!out.has(name)) out.set(name, []);
      out.get(name).push({ labels, value: parseValue(fields[0]) });
    }
    return out;
  }

  function series(name) { return state.metrics ? state.metrics.get(name) || null : null; }

  // ---- loading ----

  async function loadConnectors() {
    if (!state.cfg.rest) return;
    try {
      state.connectors = await getJSON(restURL('/connectors?expand=status&expand=info'));
      state.connectorsErr = null;
    } catch (e) {
      state.connectorsErr = e;
    }
  }

  async function loadMetrics() {
    if (!state.cfg.metrics) return;
    try {
      const resp = await fetch(state.cfg.metrics, { cache: 'no-store' });
      if (!resp.ok) {
        const err = new Error('HTTP ' + resp.status + ' from ' + state.cfg.metrics);
        err.absent = resp.status === 404; // not served here: a gap, not a failure
        throw err;
      }
      state.metrics = parseProm(await resp.text());
      state.metricsErr = null;
    } catch (e) {
      state.metrics = null;
      state.metricsErr = e;
    }
  }

  async function loadTopics() {
    try {
      state.topics = (await getJSON(API + 'topics'));
      state.topicsErr = null;
    } catch (e) {
      state.topicsErr = e;
    }
  }

  async function loadGroups() {
    try {
      state.groups = (await getJSON(API + 'groups')).groups;
      state.groupsErr = null;
    } catch (e) {
      state.groupsErr = e;
    }
  }

  // The connectors whose type is t ('source' or 'sink'), from the REST API.
  function connectorsOf(t) {
    const out = [];
    for (const [name, c] of Object.entries(state.connectors || {})) {
      if ((c.status && c.status.type) === t || (c.info && c.info.type) === t) out.push([name, c]);
    }
    return out.sort((a, b) => a[0].localeCompare(b[0]));
  }

  // loadOffsets asks the stored offsets of the connectors of type t, for
  // the sections whose metrics are missing.
  async function loadOffsets(t) {
    await Promise.all(connectorsOf(t).map(async ([name]) => {
      try {
        const r = await getJSON(restURL('/connectors/' + encodeURIComponent(name) + '/offsets'));
        state.offsets.set(name, { entries: r.offsets || [] });
      } catch (e) {
        state.offsets.set(name, { err: e });
      }
    }));
  }

  // ---- charts ----

  // Chart keeps the history of a set of rates and draws it with uPlot.
  class Chart {
    constructor(container) {
      this.container = container;
      this.times = [];
      this.series = new Map(); // key -> {label, values}
      this.plot = null;
      this.keys = '';
      this.points = 0;
    }

    // add records one sample: values maps a series key to [label, rate].
    add(t, values) {
      this.times.push(t / 1000);
      for (const [key, [label, v]] of values) {
        if (!this.series.has(key)) {
          this.series.set(key, { label, values: new Array(this.times.length - 1).fill(null) });
        }
      }
      for (const [key, s] of this.series) {
        const v = values.get(key);
        s.values.push(v ? v[1] : null);
      }
      const cut = this.times.findIndex((x) => x >= t / 1000 - WINDOW_S);
      if (cut > 0) {
        this.times.splice(0, cut);
        for (const s of this.series.values()) s.values.splice(0, cut);
      }
      for (const [key, s] of this.series) {
        if (s.values.every((v) => v == null)) this.series.delete(key);
      }
      this.points = this.times.length;
    }

    draw() {
      if (typeof uPlot === 'undefined') {
        this.container.replaceChildren(empty('The chart library did not load.'));
        return;
      }
      if (this.series.size === 0) {
        if (this.plot) { this.plot.destroy(); this.plot = null; this.keys = ''; }
        return;
      }
      const keys = [...this.series.keys()].join('\n');
      const data = [this.times.slice(), ...[...this.series.values()].map((s) => s.values.slice())];
      const width = Math.max(200, this.container.clientWidth || 600);
      if (this.plot && keys === this.keys) {
        if (this.plot.width !== width) this.plot.setSize({ width, height: this.height() });
        this.plot.setData(data);
        return;
      }
      if (this.plot) this.plot.destroy();
      this.keys = keys;
      const opts = {
        width,
        height: this.height(),
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max || 0, 1) * 1.1] } },
        axes: [
          { stroke: '#5b6b7c' },
          { stroke: '#5b6b7c', size: 76, values: (u, vals) => vals.map((v) => fmtRate(v)) },
        ],
        series: [{}, ...[...this.series.values()].map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          points: { show: false },
          value: (u, v) => fmtRate(v),
        }))],
        legend: { live: true },
      };
      this.plot = new uPlot(opts, data, this.container);
    }

    height() { return window.innerWidth < 640 ? 160 : 220; }
  }

  // ---- sections ----

  function renderConnectors() {
    const id = 'connectors';
    if (!state.cfg.rest) {
      note(id, 'No worker REST API on this listener: this page is served by the broker. The worker\'s own page (its REST listener, /ui/) shows its connectors.');
      setBody(id, empty('–'));
      return;
    }
    if (state.connectorsErr) {
      note(id, 'Cannot read GET /connectors: ' + state.connectorsErr.message, true);
      if (!state.connectors) return;
    } else {
      note(id, '');
    }
    const names = Object.keys(state.connectors || {}).sort();
    if (names.length === 0) {
      setBody(id, empty('This worker runs no connectors.'));
      return;
    }
    const rows = [];
    for (const name of names) {
      const c = state.connectors[name];
      const st = c.status || {};
      const info = c.info || {};
      const cfg = info.config || {};
      const type = st.type || info.type || '';
      const flow = type === 'source'
        ? (cfg.file || cfg['file.pattern'] || cfg.files || '?') + ' → ' + (cfg.topic || cfg.topics || '?')
        : (cfg.topics || cfg['topics.regex'] || '?') + ' → ' + (cfg.file || '?');
      const cs = st.connector || {};
      rows.push(el('tr', { 'data-connector': name, 'data-task': '' },
        td('Connector', el('strong', { text: name })),
        td('Type', type),
        td('State', stateBadge(cs.state)),
        el('td', { class: 'mono', 'data-label': 'Flow', text: flow }),
        num(st.progress ? st.progress.records : null, fmtInt(st.progress ? st.progress.records : null), 'Records'),
        num(st.progress ? st.progress.records_per_second : null, st.progress && st.progress.records_per_second != null ? st.progress.records_per_second.toFixed(1) : '–', 'Records/s'),
        td('Worker', cs.worker_id || '')));
      if (cs.trace) rows.push(traceRow(name, '', cs.trace));
      for (const t of st.tasks || []) {
        const p = t.progress || {};
        rows.push(el('tr', { class: 'sub', 'data-connector': name, 'data-task': String(t.id) },
          td('Task', '↳ task ' + t.id),
          td('Type', ''),
          td('State', stateBadge(t.state)),
          el('td', { class: 'mono', 'data-label': 'Progress', text: p.lag != null ? 'lag ' + fmtBytes(p.lag) : '' }),
          num(p.records, fmtInt(p.records), 'Records'),
          num(p.records_per_second, p.records_per_second != null ? p.records_per_second.toFixed(1) : '–', 'Records/s'),
          td('Worker', t.worker_id || '')));
        if (t.trace) rows.push(traceRow(name, String(t.id), t.trace));
      }
    }
    setBody(id, table(['Connector / task', 'Type', 'State', 'Flow', '#Records', '#Records/s', 'Worker'], rows));
  }

  function traceRow(name, task, trace) {
    return el('tr', { class: 'trace-row', 'data-connector': name, 'data-task': task },
      el('td', { colspan: '7', class: 'wide', 'data-label': 'Last error' }, el('pre', { class: 'trace', text: trace })));
  }

  // sourceFiles returns one row per source file, from the metrics when
  // /metrics has them, else from the stored offsets and the tasks' progress.
  function sourceFiles(t) {
    const pos = series(M.srcPos);
    if (pos) {
      const find = (name) => {
        const m = new Map();
        for (const s of series(name) || []) m.set(fileKey(s.labels), s.value);
        return m;
      };
      const size = find(M.srcSize); const lag = find(M.srcLag); const read = find(M.srcRead);
      return {
        from: 'metrics',
        rows: pos.map((s) => {
          const key = fileKey(s.labels);
          const r = read.has(key) ? read.get(key) : s.value;
          return {
            key, connector: s.labels.connector || '', task: s.labels.task || '', file: s.labels.file || '',
            position: s.value, size: size.get(key), lag: lag.get(key),
            rate: rate('src\u0000' + key, r, t),
          };
        }),
      };
    }
    const rows = [];
    for (const [name, c] of connectorsOf('source')) {
      const o = state.offsets.get(name);
      if (!o || !o.entries) continue;
      const tasks = (c.status && c.status.tasks) || [];
      const one = tasks.length === 1 && o.entries.length === 1 ? tasks[0].progress || {} : null;
      for (const e of o.entries) {
        const file = e.partition && e.partition.filename != null ? e.partition.filename : JSON.stringify(e.partition);
        const position = e.offset && typeof e.offset.position === 'number' ? e.offset.position : null;
        const key = name + '\u0000\u0000' + file;
        const size = one && one.size_bytes != null ? one.size_bytes : null;
        rows.push({
          key, connector: name, task: '', file, position, size,
          lag: size != null && position != null ? Math.max(0, size - position) : null,
          rate: rate('src\u0000' + key, position, t),
        });
      }
    }
    return { from: 'offsets', rows };
  }

  function fileKey(l) { return (l.connector || '') + '\u0000' + (l.task || '') + '\u0000' + (l.file || ''); }

  function metricsGap(names) {
    if (!state.cfg.metrics) return 'This listener serves no metrics.';
    if (state.metricsErr && state.metricsErr.absent) return 'This listener serves no ' + state.cfg.metrics + ' (HTTP 404).';
    if (state.metricsErr) return 'Cannot read ' + state.cfg.metrics + ': ' + state.metricsErr.message + '.';
    const missing = names.filter((n) => !series(n));
    if (missing.length) return state.cfg.metrics + ' has no ' + missing.join(', ') + '.';
    return '';
  }

  function renderSources(t) {
    const id = 'sources';
    const chart = state.charts.sources || (state.charts.sources = new Chart(document.getElementById('source-chart')));
    const gap = metricsGap([M.srcPos]);
    const f = sourceFiles(t);
    if (f.from === 'offsets' && !state.cfg.rest) {
      note(id, 'Files are the worker\'s to show: its page (/ui/ on its REST listener) has them.');
    } else if (f.from === 'offsets') {
      note(id, gap + ' Positions below are the stored offsets (GET /connectors/{name}/offsets); rates are computed from them.');
    } else {
      const other = metricsGap([M.srcSize, M.srcLag, M.srcRead]);
      note(id, other);
    }
    const values = new Map();
    for (const r of f.rows) {
      if (r.rate != null) values.set(r.key, [basename(r.file) + (r.task !== '' ? ' (' + r.connector + '/' + r.task + ')' : ' (' + r.connector + ')'), r.rate]);
    }
    chart.add(t, values);
    chart.draw();
    if (f.rows.length === 0) {
      setBody(id, empty(state.cfg.rest ? 'No source files.' : ''));
      return;
    }
    f.rows.sort((a, b) => a.key.localeCompare(b.key));
    setBody(id, table(['Connector', 'Task', 'File', '#Position', '#Size', '#Lag', 'Read', '#Rate'], f.rows.map((r) => {
      const pct = r.size > 0 && r.position != null ? Math.min(100, 100 * r.position / r.size) : null;
      return el('tr', { 'data-file': r.file, 'data-connector': r.connector },
        td('Connector', r.connector), td('Task', r.task),
        el('td', { class: 'file', 'data-label': 'File', text: r.file }),
        el('td', { class: 'num position', 'data-label': 'Position', 'data-value': r.position == null ? '' : String(r.position), title: fmtBytes(r.position) }, fmtInt(r.position)),
        num(r.size, fmtBytes(r.size), 'Size'),
        num(r.lag, fmtBytes(r.lag), 'Lag'),
        td('Read', pct == null ? '' : el('div', { class: 'bar', title: pct.toFixed(1) + '%' }, el('span', { style: 'width:' + pct + '%' }))),
        num(r.rate, fmtRate(r.rate), 'Rate'));
    })));
  }

  function renderSinks(t) {
    const id = 'sinks';
    const written = series(M.sinkWritten);
    const pos = series(M.sinkPos);
    if (written || pos) {
      note(id, metricsGap([M.sinkWritten, M.sinkPos]));
      const rows = new Map();
      for (const s of pos || []) rows.set(fileKey(s.labels), { labels: s.labels, position: s.value });
      for (const s of written || []) {
        const k = fileKey(s.labels);
        const r = rows.get(k) || { labels: s.labels };
        r.written = s.value;
        rows.set(k, r);
      }
      const list = [...rows.entries()].sort((a, b) => a[0].localeCompare(b[0]));
      setBody(id, table(['Connector', 'Task', 'File', '#Size', '#Written', '#Rate'], list.map(([k, r]) => {
        const rt = rate('sink\u0000' + k, r.written != null ? r.written : r.position, t);
        return el('tr', { 'data-file': r.labels.file || '' },
          td('Connector', r.labels.connector || ''), td('Task', r.labels.task || ''),
          el('td', { class: 'file', 'data-label': 'File', text: r.labels.file || '' }),
          num(r.position, fmtBytes(r.position), 'Size'),
          num(r.written, fmtBytes(r.written), 'Written'),
          num(rt, fmtRate(rt), 'Rate'));
      })));
      return;
    }
    // No sink metrics: the sinks' files from their configurations, and
    // their committed offsets.
    if (!state.cfg.rest) {
      note(id, 'Files are the worker\'s to show: its page (/ui/ on its REST listener) has them.');
      setBody(id, empty(''));
      return;
    }
    note(id, metricsGap([M.sinkWritten, M.sinkPos]) + ' Shown: each sink\'s file and its committed offsets (GET /connectors/{name}/offsets).');
    const rows = [];
    for (const [name, c] of connectorsOf('sink')) {
      const cfg = (c.info && c.info.config) || {};
      const o = state.offsets.get(name);
      const parts = o && o.entries ? o.entries.map((e) => (e.partition.kafka_topic + '-' + e.partition.kafka_partition + ' @ ' + e.offset.kafka_offset)).join(', ') : (o && o.err ? o.err.message : '');
      rows.push(el('tr', { 'data-file': cfg.file || '' },
        td('Connector', name),
        el('td', { class: 'file', 'data-label': 'File', text: cfg.file || '' }),
        el('td', { class: 'mono', 'data-label': 'Committed', text: parts || 'nothing committed yet' })));
    }
    setBody(id, rows.length ? table(['Connector', 'File', 'Committed offsets'], rows) : empty('No sink connectors.'));
  }

  function renderTopics(t) {
    const id = 'topics';
    if (state.topicsErr) note(id, 'Cannot list the topics: ' + state.topicsErr.message, true);
    if (!state.topics) return;
    const traffic = { in: series(M.msgIn), bin: series(M.bytesIn), bout: series(M.bytesOut) };
    const has = traffic.in || traffic.bin || traffic.bout;
    const byTopic = (list) => {
      const m = new Map();
      for (const s of list || []) if (s.labels.topic) m.set(s.labels.topic, s.value);
      return m;
    };
    const mi = byTopic(traffic.in); const bi = byTopic(traffic.bin); const bo = byTopic(traffic.bout);
    if (!state.topicsErr) {
      const notes = [];
      if (state.topics.sizes_error) notes.push(state.topics.sizes_error);
      if (!has && state.cfg.metrics && !state.metricsErr) notes.push('Per-topic traffic: ' + state.cfg.metrics + ' has no kafka_server_brokertopicmetrics_* (the broker\'s metrics listener serves them).');
      note(id, notes.join(' '));
    }
    const internal = document.getElementById('show-internal').checked;
    const topics = state.topics.topics.filter((x) => internal || !x.internal);
    updateTopicChoice(state.topics.topics);
    if (topics.length === 0) {
      setBody(id, empty('No topics.'));
      return;
    }
    const cols = ['Topic', '#Partition', '#Leader', '#Start', '#End', '#Size'];
    if (has) cols.push('#Msgs in/s', '#In', '#Out');
    const rows = [];
    for (const x of topics) {
      // Rates move only with a new scrape (t set), not when redrawn.
      const rates = state.topicRates.get(x.name) || {};
      if (t != null) {
        rates.in = rate('mi\u0000' + x.name, mi.get(x.name), t);
        rates.bin = rate('bi\u0000' + x.name, bi.get(x.name), t);
        rates.bout = rate('bo\u0000' + x.name, bo.get(x.name), t);
        state.topicRates.set(x.name, rates);
      }
      const inRate = rates.in; const binRate = rates.bin; const boutRate = rates.bout;
      rows.push(el('tr', { 'data-topic': x.name },
        td('Topic', el('strong', { text: x.name }), x.internal ? ' (internal)' : ''),
        num(x.partitions.length, x.partitions.length + ' partition' + (x.partitions.length === 1 ? '' : 's'), 'Partitions'),
        td('Leader', ''),
        td('Start', ''),
        num(x.records, fmtInt(x.records) + (x.records === 1 ? ' record' : ' records'), 'Records'),
        num(x.size_bytes, fmtBytes(x.size_bytes), 'Size'),
        has ? [num(inRate, inRate == null ? '–' : inRate.toFixed(1), 'Msgs in/s'), num(binRate, fmtRate(binRate), 'Bytes in'), num(boutRate, fmtRate(boutRate), 'Bytes out')] : null));
      if (x.error) rows.push(el('tr', null, el('td', { colspan: String(cols.length), class: 'wide', 'data-label': 'Error', text: x.error })));
      for (const p of x.partitions) {
        rows.push(el('tr', { class: 'sub', 'data-topic': x.name, 'data-partition': String(p.partition) },
          td('Topic', ''),
          num(p.partition, '↳ ' + p.partition, 'Partition'),
          num(p.leader, String(p.leader), 'Leader'),
          num(p.start_offset, fmtInt(p.start_offset), 'Start offset'),
          el('td', { class: 'num end', 'data-label': 'End offset', 'data-value': String(p.end_offset) }, fmtInt(p.end_offset)),
          num(p.size_bytes, fmtBytes(p.size_bytes), 'Size'),
          has ? [td('', ''), td('', ''), td('', '')] : null));
      }
    }
    setBody(id, table(cols, rows));
  }

  function renderGroups() {
    const id = 'groups';
    if (state.groupsErr) note(id, 'Cannot describe the groups: ' + state.groupsErr.message, true);
    else note(id, '');
    if (!state.groups) return;
    if (state.groups.length === 0) {
      setBody(id, empty('No consumer groups.'));
      return;
    }
    const rows = [];
    for (const g of state.groups) {
      rows.push(el('tr', { 'data-group': g.group },
        td('Group', el('strong', { text: g.group })),
        td('State', stateBadge(g.state)),
        td('Members', g.members.length + ' member' + (g.members.length === 1 ? '' : 's')),
        td('Committed', ''), td('End', ''),
        num(g.lag, fmtInt(g.lag), 'Lag')));
      if (g.error) rows.push(el('tr', null, el('td', { colspan: '6', class: 'wide', 'data-label': 'Error', text: g.error })));
      for (const p of g.partitions) {
        rows.push(el('tr', { class: 'sub', 'data-group': g.group, 'data-topic': p.topic, 'data-partition': String(p.partition) },
          el('td', { class: 'mono', 'data-label': 'Partition', text: '↳ ' + p.topic + '-' + p.partition }),
          td('Member', p.client_id || (p.member_id ? p.member_id : '')),
          td('', p.error || ''),
          num(p.committed, p.committed < 0 ? 'none' : fmtInt(p.committed), 'Committed'),
          num(p.end_offset, fmtInt(p.end_offset), 'End offset'),
          el('td', { class: 'num lag', 'data-label': 'Lag', 'data-value': String(p.lag) }, p.lag < 0 ? '–' : fmtInt(p.lag))));
      }
    }
    setBody(id, table(['Group / partition', 'State / member', 'Members', '#Committed', '#End', '#Lag'], rows));
  }

  // ---- the message browser ----

  function updateTopicChoice(topics) {
    const sel = document.getElementById('browse-topic');
    const names = topics.map((x) => x.name);
    const have = [...sel.options].map((o) => o.value);
    if (names.join('\n') === have.join('\n')) return;
    const cur = sel.value;
    sel.replaceChildren(...names.map((n) => el('option', { value: n, text: n })));
    if (names.includes(cur)) sel.value = cur;
    else {
      const user = topics.find((x) => !x.internal);
      if (user) sel.value = user.name;
    }
  }

  async function loadMessages() {
    const topic = document.getElementById('browse-topic').value;
    if (!topic) {
      note('messages', 'Choose a topic.', false);
      return;
    }
    const q = new URLSearchParams({ topic, n: document.getElementById('browse-n').value.trim() || '20' });
    const p = document.getElementById('browse-partition').value.trim();
    if (p) q.set('partition', p);
    try {
      state.browse = await getJSON(API + 'messages?' + q);
      state.browseErr = null;
    } catch (e) {
      state.browseErr = e;
    }
    renderMessages();
  }

  function b64bytes(b64) {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  const utf8 = new TextDecoder('utf-8', { fatal: true });

  // shown renders bytes (base64, or null) as text or hex.
  function shown(b64, format, limit) {
    if (b64 == null) return el('span', { class: 'nil', text: 'null' });
    const bytes = b64bytes(b64);
    if (bytes.length === 0) return el('span', { class: 'nil', text: 'empty' });
    let text = null;
    if (format === 'text') {
      try { text = utf8.decode(bytes); } catch (e) { text = null; }
    }
    const more = (n) => (n < bytes.length ? ' … (' + fmtInt(bytes.length) + ' bytes)' : '');
    if (text != null) {
      return text.length > limit ? text.slice(0, limit) + more(limit) : text;
    }
    const n = Math.min(bytes.length, Math.floor(limit / 3));
    const hex = Array.from(bytes.subarray(0, n), (x) => x.toString(16).padStart(2, '0')).join(' ');
    return el('span', { title: format === 'text' ? 'not UTF-8: shown as hex' : null, text: hex + more(n) });
  }

  function renderMessages() {
    const id = 'messages';
    if (state.browseErr) {
      note(id, state.browseErr.message, true);
      setBody(id, empty(''));
      return;
    }
    const b = state.browse;
    if (!b) return;
    const ends = b.partitions.map((p) => 'partition ' + p.partition + ': offsets ' + fmtInt(p.start_offset) + '–' + fmtInt(p.end_offset)).join('; ');
    note(id, (b.complete ? '' : 'Not every record arrived in time; showing those that did. ') + b.topic + ', ' + ends + '.', !b.complete);
    if (b.records.length === 0) {
      setBody(id, empty('No records in ' + b.topic + (b.partitions.length === 1 ? ' partition ' + b.partitions[0].partition : '') + '.'));
      return;
    }
    const format = document.getElementById('browse-format').value;
    const rows = b.records.slice().reverse().map((r) => el('tr', { 'data-partition': String(r.partition), 'data-offset': String(r.offset) },
      num(r.partition, String(r.partition), 'Partition'),
      num(r.offset, fmtInt(r.offset), 'Offset'),
      td('Time', new Date(r.timestamp).toISOString().replace('T', ' ').replace('Z', '')),
      el('td', { class: 'record-key record-value', 'data-label': 'Key' }, shown(r.key, format, 200)),
      el('td', { class: 'record-headers', 'data-label': 'Headers' }, r.headers.map((h) => el('span', { class: 'hdr' }, h.key + '=', shown(h.value, format, 120)))),
      el('td', { class: 'record-value wide', 'data-label': 'Value' }, shown(r.value, format, 2000))));
    setBody(id, table(['#Partition', '#Offset', 'Time', 'Key', 'Headers', 'Value'], rows));
  }

  // ---- the loop ----

  function setLive(ok, text) {
    const l = document.getElementById('live');
    l.className = 'live ' + (ok ? 'ok' : 'err');
    l.textContent = text;
  }

  function render(t) {
    const parts = [
      ['connectors', renderConnectors],
      ['sources', () => renderSources(t)],
      ['sinks', () => renderSinks(t)],
      ['topics', () => renderTopics(t)],
      ['groups', renderGroups],
    ];
    for (const [id, fn] of parts) {
      try {
        fn();
      } catch (e) {
        note(id, 'This section failed to draw: ' + e.message, true);
      }
    }
  }

  async function tick() {
    const t = Date.now();
    const jobs = [loadConnectors(), loadMetrics()];
    if (state.ticks % 2 === 0) jobs.push(loadTopics(), loadGroups());
    await Promise.allSettled(jobs);
    const offsetJobs = [];
    if (state.cfg.rest && !series(M.srcPos)) offsetJobs.push(loadOffsets('source'));
    if (state.cfg.rest && !series(M.sinkWritten) && !series(M.sinkPos)) offsetJobs.push(loadOffsets('sink'));
    await Promise.allSettled(offsetJobs);
    render(t);
    if (document.getElementById('browse-live').checked && state.ticks % 2 === 0) await loadMessages();
    state.ticks++;
    state.updated = new Date();
    const failing = [state.connectorsErr, state.metricsErr, state.topicsErr, state.groupsErr].filter((e) => e && !e.absent);
    setLive(failing.length === 0, (failing.length ? 'some sources fail · ' : 'live · ') + 'updated ' + state.updated.toLocaleTimeString());
  }

  async function loop() {
    try {
      await tick();
    } catch (e) {
      setLive(false, 'update failed: ' + e.message);
    }
    setTimeout(loop, POLL_MS);
  }

  async function start() {
    try {
      state.cfg = await getJSON(API + 'config');
    } catch (e) {
      setLive(false, 'cannot load the page\'s configuration: ' + e.message);
      setTimeout(start, POLL_MS);
      return;
    }
    document.getElementById('title').textContent = state.cfg.title;
    document.title = state.cfg.title + ' status';
    document.getElementById('browse').addEventListener('submit', (ev) => {
      ev.preventDefault();
      loadMessages();
    });
    document.getElementById('browse-format').addEventListener('change', renderMessages);
    document.getElementById('show-internal').addEventListener('change', () => renderTopics(null));
    window.addEventListener('resize', () => {
      for (const c of Object.values(state.charts)) c.draw();
    });
    loop();
  }

  start();
}());
