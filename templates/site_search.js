// Search for the archive: exact substring search (any Chinese string, even one character),
// ranked, grouped by issue, ten issues a page, each passage linking to its article. Nothing is
// loaded until a query is made; then only the index pieces of the query's own characters
// (search/s/*.js) and the texts of the issues shown (search/t/*.js). The index format is
// described in liandong/search.py. Plain DOM, no server, relative links only, works from file://.
(function () {
  "use strict";
  var PAGE = 10;          // issues a page
  var WINDOW = 30;        // characters of context before a match
  var MAX_SNIPPETS = 3;   // passages shown per issue
  var END = "\n";         // pairs with a unit's last character
  var TIERS = ["标题", "小标题", "正文", "报头或版记"];
  var LAST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", MORE = "ghijklmnopqrstuvwxyz0123456789-_";
  var DIGIT = new Int8Array(128).fill(-1);
  for (var d = 0; d < 32; d++) { DIGIT[LAST.charCodeAt(d)] = d; DIGIT[MORE.charCodeAt(d)] = 32 + d; }

  // --- Loading the index's pieces: each file calls LIANDONG_SEARCH(name, data) ---------------
  var loaded = {}, pending = {};
  window.LIANDONG_SEARCH = function (name, data) {
    loaded[name] = data;
    (pending[name] || []).forEach(function (p) { p.resolve(data); });
    delete pending[name];
  };
  function load(name) {
    if (loaded[name]) { return Promise.resolve(loaded[name]); }
    return new Promise(function (resolve, reject) {
      if (pending[name]) { pending[name].push({ resolve: resolve, reject: reject }); return; }
      pending[name] = [{ resolve: resolve, reject: reject }];
      var script = document.createElement("script");
      script.src = "search/" + name + ".js";
      script.onerror = function () {
        (pending[name] || []).forEach(function (p) { p.reject(new Error(name)); });
        delete pending[name];
        script.remove();
      };
      script.onload = function () { script.remove(); };
      document.head.appendChild(script);
    });
  }

  function hash(code) {  // = search.char_hash
    var h = Math.imul(code, 0x9E3779B1) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    h = Math.imul(h, 0x85EBCA6B) >>> 0;
    return (h ^ (h >>> 13)) >>> 0;
  }
  function shardOf(meta, first, second) {
    var big = meta.big[first];
    if (big) { return "s/c" + first.codePointAt(0).toString(16) + "-" + (hash(second.codePointAt(0)) % big); }
    return "s/b" + (hash(first.codePointAt(0)) % meta.buckets);
  }
  function shardsOfChar(meta, first) {
    var big = meta.big[first];
    if (!big) { return [shardOf(meta, first, END)]; }
    var names = [];
    for (var j = 0; j < big; j++) { names.push("s/c" + first.codePointAt(0).toString(16) + "-" + j); }
    return names;
  }

  function decode(text) {
    var out = [], value = 0, scale = 1;
    for (var i = 0; i < text.length; i++) {
      var digit = DIGIT[text.charCodeAt(i)];
      if (digit >= 32) { value += (digit - 32) * scale; scale *= 32; }
      else { out.push(value + digit * scale); value = 0; scale = 1; }
    }
    return out;
  }

  // Occurrences of one bigram as {"issue:unitcode": [start, ...]}, start = position - offset.
  function occurrences(postings, offset, into) {
    var numbers = decode(postings), i = 0;
    while (i < numbers.length) {
      var issue = numbers[i++], units = numbers[i++];
      for (var u = 0; u < units; u++) {
        var code = numbers[i++], count = numbers[i++], position = 0;
        var key = issue + ":" + code, list = into[key] || (into[key] = []);
        for (var k = 0; k < count; k++) { position += numbers[i++]; list.push(position - offset); }
      }
    }
    return into;
  }

  // Where one term occurs: {"issue:unitcode": count}. Exact: the bigrams at offsets 0, 2, 4 …
  // and n-2 cover every character of the term, and must all stand at their offsets.
  function findTerm(meta, term) {
    var chars = Array.from(term);
    if (chars.length === 1) {
      return Promise.all(shardsOfChar(meta, chars[0]).map(load)).then(function (shards) {
        var found = {};
        shards.forEach(function (shard) {
          Object.keys(shard).forEach(function (bigram) {
            if (Array.from(bigram)[0] === chars[0]) { countOnly(shard[bigram], found); }
          });
        });
        return found;
      });
    }
    var offsets = [];
    for (var o = 0; o < chars.length - 1; o += 2) { offsets.push(o); }
    if (offsets[offsets.length - 1] !== chars.length - 2) { offsets.push(chars.length - 2); }
    var names = offsets.map(function (o) { return shardOf(meta, chars[o], chars[o + 1]); });
    return Promise.all(names.map(load)).then(function (shards) {
      if (offsets.length === 1) {
        var only = shards[0][chars[0] + chars[1]];
        return only ? countOnly(only, {}) : {};
      }
      var found = null;
      for (var n = 0; n < offsets.length; n++) {
        var postings = shards[n][chars[offsets[n]] + chars[offsets[n] + 1]];
        if (!postings) { return {}; }
        var here = occurrences(postings, offsets[n], {});
        if (found === null) { found = here; continue; }
        var kept = {};
        Object.keys(found).forEach(function (key) {
          if (!here[key]) { return; }
          var starts = new Set(here[key]);
          var both = found[key].filter(function (s) { return starts.has(s); });
          if (both.length) { kept[key] = both; }
        });
        found = kept;
      }
      return counts(found || {});
    });
  }
  // The same as counts(occurrences(…)) when no other bigram must be matched: no position lists.
  function countOnly(postings, into) {
    var numbers = decode(postings), i = 0;
    while (i < numbers.length) {
      var issue = numbers[i++], units = numbers[i++];
      for (var u = 0; u < units; u++) {
        var key = issue + ":" + numbers[i++], count = numbers[i++];
        into[key] = (into[key] || 0) + count;
        i += count;
      }
    }
    return into;
  }
  function counts(found) {
    var out = {};
    Object.keys(found).forEach(function (key) { out[key] = found[key].length; });
    return out;
  }

  // --- Queries by number: 第13期, 2024年第13期, 总第714期, 总第七百一十四期, 714 ---------------
  var CN = { "〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9 };
  var CN_UNIT = { "十": 10, "百": 100, "千": 1000, "万": 10000 };
  function chineseNumber(text) {
    var total = 0, section = 0, digit = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (c in CN) { digit = CN[c]; continue; }
      var unit = CN_UNIT[c];
      if (unit === 10000) { total += (section + digit) * unit; section = 0; digit = 0; continue; }
      section += (digit || (unit === 10 ? 1 : 0)) * unit;
      digit = 0;
    }
    return total + section + digit;
  }
  function byNumber(meta, query) {
    var q = query.replace(/\s+/g, ""), m, test = null, text = false;
    if ((m = /^(\d{4})年?第(\d{1,3})期$/.exec(q)) || (m = /^(\d{4})[-/](\d{1,3})$/.exec(q))) {
      var year = Number(m[1]), number = Number(m[2]);
      test = function (i) { return i.year === year && i.number === number; };
    } else if ((m = /^第(\d{1,3})期$/.exec(q))) {
      var only = Number(m[1]);
      test = function (i) { return i.number === only; };
    } else if ((m = /^总第(\d{1,6})期$/.exec(q))) {
      var total = Number(m[1]);
      test = function (i) { return i.total === total; };
    } else if ((m = /^（?总第([〇零一二两三四五六七八九十百千万]+)期）?$/.exec(q))) {
      var cn = chineseNumber(m[1]);
      test = function (i) { return i.total === cn; };
    } else if ((m = /^(\d{1,6})$/.exec(q))) {
      var plain = Number(m[1]);
      test = function (i) { return i.total === plain; };
      text = true;  // a number may also be in the text: a phone number, a date
    }
    if (!test) { return null; }
    var ids = [];
    issues(meta).forEach(function (issue, id) { if (test(issue)) { ids.push(id); } });
    return { ids: ids, text: text };
  }

  var issueList = null;
  function issues(meta) {
    if (!issueList) {
      issueList = meta.issues.map(function (row) {
        var parts = row[0].split("-"), date = row[2];
        return { slug: row[0], year: Number(parts[0]), number: Number(parts[1]), total: row[1],
                 date: date.slice(0, 4) + "-" + date.slice(4, 6) + "-" + date.slice(6),
                 dateText: Number(date.slice(0, 4)) + "年" + Number(date.slice(4, 6)) + "月" + Number(date.slice(6)) + "日" };
      });
    }
    return issueList;
  }

  // --- Ranking -------------------------------------------------------------------------------
  // An issue's tier is that of its weakest term's best unit (title 0, heading 1, body 2, only
  // 报头 or 版记 3); then more matching units first, then newer first. Issues found by number
  // come before all.
  function rank(meta, terms, perTerm, boiler, numbered) {
    var byIssue = {};
    function entry(id) {
      return byIssue[id] || (byIssue[id] = { id: id, tiers: [], units: {}, boiler: [], hits: 0 });
    }
    perTerm.forEach(function (found, t) {
      var best = {};
      Object.keys(found).forEach(function (key) {
        var parts = key.split(":"), id = Number(parts[0]), code = Number(parts[1]);
        if (id === meta.boiler) {
          var carriers = boiler.issues[code >> 2] || [];
          carriers.forEach(function (issueId) {
            var e = entry(issueId);
            if (e.boiler.indexOf(code >> 2) < 0) { e.boiler.push(code >> 2); }
            if (!(issueId in best)) { best[issueId] = 3; }
          });
          return;
        }
        var e = entry(id), kind = code & 3;
        e.units[code >> 2] = kind;
        e.hits += found[key];
        best[id] = Math.min(id in best ? best[id] : 3, kind);
      });
      Object.keys(best).forEach(function (id) { byIssue[id].tiers[t] = best[id]; });
    });
    var ranked = Object.keys(byIssue).map(function (id) { return byIssue[id]; }).filter(function (e) {
      for (var t = 0; t < terms.length; t++) { if (e.tiers[t] === undefined) { return false; } }
      e.tier = Math.max.apply(null, e.tiers);
      return true;
    });
    ranked.sort(function (a, b) { return a.tier - b.tier || b.hits - a.hits || b.id - a.id; });
    if (numbered && numbered.ids.length) {
      var first = numbered.ids.slice().reverse().map(function (id) {
        return byIssue[id] ? Object.assign(byIssue[id], { tier: -1 }) : { id: id, tier: -1, units: {}, boiler: [], hits: 0 };
      });
      ranked = first.concat(ranked.filter(function (e) { return e.tier !== -1; }));
    }
    return ranked;
  }

  function boilerIndex(meta, needed) {
    if (!needed) { return Promise.resolve({ texts: [], issues: [] }); }
    return load("boiler").then(function (data) {
      return { texts: data.u.map(function (u) { return u[0]; }),
               issues: data.u.map(function (u) {
                 var numbers = decode(u[1]), ids = [], next = 0;
                 for (var i = 0; i < numbers.length; i += 2) {
                   next += numbers[i];
                   for (var k = 0; k < numbers[i + 1]; k++) { ids.push(next + k); }
                   next += numbers[i + 1];
                 }
                 return ids;
               }) };
    });
  }

  // --- Showing results -----------------------------------------------------------------------
  var current = null;  // {query, terms, ranked, boiler, meta}
  var statusBox = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var pager = document.getElementById("search-pages");
  var input = document.getElementById("q");

  function fold(text) { return text.toLowerCase(); }

  // Passage around the first match in text, with every term in <mark>; where that match is.
  function passage(text, terms, into) {
    var folded = fold(text), first = -1, matched = 0;
    terms.forEach(function (w) {
      var at = folded.indexOf(w);
      if (at >= 0 && (first < 0 || at < first)) { first = at; matched = w.length; }
    });
    var start = Math.max(0, first - WINDOW), end = Math.min(text.length, Math.max(first, 0) + WINDOW * 2);
    var part = text.slice(start, end), foldedPart = fold(part), pos = 0;
    if (start > 0) { into.appendChild(document.createTextNode("……")); }
    while (pos < part.length) {
      var next = -1, length = 0;
      terms.forEach(function (w) {
        var at = foldedPart.indexOf(w, pos);
        if (at >= 0 && (next < 0 || at < next)) { next = at; length = w.length; }
      });
      if (next < 0) { break; }
      into.appendChild(document.createTextNode(part.slice(pos, next)));
      var mark = document.createElement("mark");
      mark.textContent = part.slice(next, next + length);
      into.appendChild(mark);
      pos = next + length;
    }
    into.appendChild(document.createTextNode(part.slice(pos)));
    if (end < text.length) { into.appendChild(document.createTextNode("……")); }
    return { at: first, length: matched };
  }

  // A link that scrolls to the article and (text fragment) to the passage itself.
  function passageLink(slug, anchor, text, match) {
    var href = slug + ".html" + (anchor ? "#" + anchor : "");
    if (match.at >= 0) {
      var quoted = function (s) { return encodeURIComponent(s).replace(/[-,&]/g, function (c) { return "%" + c.charCodeAt(0).toString(16).toUpperCase(); }); };
      var prefix = text.slice(Math.max(0, match.at - 6), match.at).trim();
      href += (anchor ? "" : "#") + ":~:text=" + (prefix ? quoted(prefix) + "-," : "") + quoted(text.substr(match.at, match.length));
    }
    return href;
  }

  function issueTitle(meta, issue) {
    return meta.name + " " + issue.year + "年第" + issue.number + "期（总第" + issue.total + "期）";
  }

  function showPage(page, push) {
    var c = current, meta = c.meta, ranked = c.ranked;
    var pages = Math.ceil(ranked.length / PAGE);
    page = Math.max(0, Math.min(page, pages - 1));
    list.textContent = "";
    var shown = ranked.slice(page * PAGE, page * PAGE + PAGE);
    var waits = [];
    shown.forEach(function (result) {
      var issue = issues(meta)[result.id];
      var item = document.createElement("li");
      var head = document.createElement("p");
      head.className = "issue-head";
      var link = document.createElement("a");
      link.href = issue.slug + ".html";
      link.textContent = issueTitle(meta, issue);
      head.appendChild(link);
      var date = document.createElement("time");
      date.dateTime = issue.date;
      date.textContent = issue.dateText;
      head.appendChild(date);
      var tier = document.createElement("span");
      tier.className = "tier";
      tier.textContent = result.tier < 0 ? "期号相符" : "见于" + TIERS[result.tier];
      head.appendChild(tier);
      item.appendChild(head);
      var snippets = document.createElement("ul");
      snippets.className = "snippets";
      item.appendChild(snippets);
      list.appendChild(item);
      var units = Object.keys(result.units).map(Number).sort(function (a, b) {
        return result.units[a] - result.units[b] || a - b;
      }).slice(0, MAX_SNIPPETS);
      if (units.length) {
        waits.push(load("t/" + issue.slug).then(function (data) {
          units.forEach(function (u) {
            var unit = data.u[u];
            if (!unit) { return; }
            var line = document.createElement("li"), a = document.createElement("a");
            var match = passage(unit[2], c.terms, a);
            a.href = passageLink(issue.slug, unit[0] ? "a" + unit[0] : "note", unit[2], match);
            line.appendChild(a);
            snippets.appendChild(line);
          });
        }));
      } else if (result.boiler.length) {
        result.boiler.slice(0, 1).forEach(function (b) {
          var line = document.createElement("li");
          passage(c.boiler.texts[b], c.terms, line);
          snippets.appendChild(line);
        });
      }
    });
    pager.textContent = "";
    pager.hidden = pages < 2;
    if (pages > 1) {
      var button = function (label, target, disabled) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = label;
        b.disabled = disabled;
        b.addEventListener("click", function () { showPage(target, true); list.scrollIntoView(); });
        pager.appendChild(b);
      };
      button("上一页", page - 1, page === 0);
      var where = document.createElement("span");
      where.textContent = "第 " + (page + 1) + " / " + pages + " 页";
      pager.appendChild(where);
      button("下一页", page + 1, page === pages - 1);
    }
    if (push) { remember(c.query, page, true); }
    return Promise.all(waits).catch(failed);
  }

  function remember(query, page, push) {
    var url = "search.html?q=" + encodeURIComponent(query) + (page ? "&p=" + (page + 1) : "");
    if (window.location.protocol === "file:") { return; }
    (push ? history.pushState : history.replaceState).call(history, { q: query, p: page }, "", url);
  }

  function failed() {
    statusBox.textContent = "搜索索引没有载入，请检查网络后重试。";
  }

  function search(query, page, push) {
    query = query.trim();
    list.textContent = "";
    pager.hidden = true;
    current = null;
    if (!query) { return Promise.resolve(); }
    statusBox.textContent = "正在搜索“" + query + "”……";
    var terms = query.split(/\s+/).map(fold).filter(function (t) { return t.length; });
    return load("meta").then(function (meta) {
      var numbered = byNumber(meta, query);
      var textSearch = !numbered || numbered.text;
      return Promise.all(textSearch ? terms.map(function (t) { return findTerm(meta, t); }) : []).then(function (perTerm) {
        var needBoiler = perTerm.some(function (found) {
          return Object.keys(found).some(function (key) { return Number(key.split(":")[0]) === meta.boiler; });
        });
        return boilerIndex(meta, needBoiler).then(function (boiler) {
          var ranked = textSearch ? rank(meta, terms, perTerm, boiler, numbered) : rank(meta, [], [], boiler, numbered);
          current = { query: query, terms: terms, ranked: ranked, boiler: boiler, meta: meta };
          if (!ranked.length) {
            statusBox.textContent = "没有找到含有“" + query + "”的内容。";
            if (push) { remember(query, 0, true); }
            return;
          }
          var onlyBoiler = ranked.filter(function (r) { return r.tier === 3; }).length;
          var byNum = ranked.filter(function (r) { return r.tier < 0; }).length;
          var text;
          if (!textSearch) {
            text = "按期号找到 " + ranked.length + " 期，新的在前";
          } else if (byNum === ranked.length) {
            text = "按期号找到 " + byNum + " 期";
          } else {
            text = "找到 " + ranked.length + " 期含有“" + query + "”";
            if (byNum) { text += "，期号相符的 " + byNum + " 期排在最前"; }
            if (onlyBoiler) { text += "，其中 " + onlyBoiler + " 期只在报头或版记中出现（排在最后）"; }
            text += "，按相关程度排列";
          }
          statusBox.textContent = text + "。每页 " + PAGE + " 期：";
          return showPage(page, push);
        });
      });
    }).catch(failed);
  }

  // The list of issues is wanted by every query: fetched as soon as one is typed.
  input.addEventListener("input", function () { if (input.value.trim()) { load("meta").catch(function () {}); } });
  var form = document.getElementById("search-form");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    search(input.value, 0, true);
  });
  window.addEventListener("popstate", function () { start(false); });

  function start(push) {
    var params = new URLSearchParams(window.location.search);
    var query = params.get("q") || "";
    input.value = query;
    search(query, Math.max(0, (Number(params.get("p")) || 1) - 1), push);
  }
  start(false);
})();
