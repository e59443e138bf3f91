// Search for the archive: finds every issue whose text contains the query (any Chinese
// substring, even one character) in window.LIANDONG_INDEX (search-index.js), and shows the
// matching passages with the query marked. Plain DOM, no server, relative links only.
(function () {
  "use strict";
  var WINDOW = 36;        // characters of context on each side of a match
  var MAX_SNIPPETS = 3;   // passages shown per issue

  function terms(query) {
    return query.split(/\s+/).filter(function (t) { return t.length > 0; });
  }

  function fold(text) { return text.toLowerCase(); }

  // The passage around the first match in text, as DOM nodes with every term in <mark>.
  function snippet(text, words) {
    var folded = fold(text);
    var first = -1;
    words.forEach(function (w) {
      var at = folded.indexOf(fold(w));
      if (at >= 0 && (first < 0 || at < first)) { first = at; }
    });
    var start = Math.max(0, first - WINDOW);
    var end = Math.min(text.length, first + WINDOW * 2);
    var part = text.slice(start, end);
    var foldedPart = fold(part);
    var item = document.createElement("li");
    if (start > 0) { item.appendChild(document.createTextNode("……")); }
    var pos = 0;
    while (pos < part.length) {
      var next = -1, length = 0;
      words.forEach(function (w) {
        var at = foldedPart.indexOf(fold(w), pos);
        if (at >= 0 && (next < 0 || at < next)) { next = at; length = w.length; }
      });
      if (next < 0) { break; }
      item.appendChild(document.createTextNode(part.slice(pos, next)));
      var mark = document.createElement("mark");
      mark.textContent = part.slice(next, next + length);
      item.appendChild(mark);
      pos = next + length;
    }
    item.appendChild(document.createTextNode(part.slice(pos)));
    if (end < text.length) { item.appendChild(document.createTextNode("……")); }
    return item;
  }

  function search(query) {
    var words = terms(query);
    var found = [];
    (window.LIANDONG_INDEX || []).forEach(function (issue) {
      var hits = issue.texts.filter(function (text) {
        var folded = fold(text);
        return words.some(function (w) { return folded.indexOf(fold(w)) >= 0; });
      });
      var all = fold(issue.texts.join("\n"));
      var every = words.every(function (w) { return all.indexOf(fold(w)) >= 0; });
      if (every && hits.length) { found.push({ issue: issue, hits: hits }); }
    });
    return found;
  }

  function show(query) {
    var status = document.getElementById("search-status");
    var list = document.getElementById("search-results");
    list.textContent = "";
    var words = terms(query);
    if (!words.length) { return; }
    var found = search(query);
    if (!found.length) {
      status.textContent = "没有找到含有“" + query + "”的内容。";
      return;
    }
    status.textContent = "找到 " + found.length + " 期含有“" + query + "”：";
    found.forEach(function (result) {
      var item = document.createElement("li");
      var head = document.createElement("p");
      head.className = "issue-head";
      var link = document.createElement("a");
      // A text fragment makes the browser scroll to and highlight the first match.
      link.href = result.issue.slug + ".html#:~:text=" + encodeURIComponent(words[0]);
      link.textContent = result.issue.title;
      head.appendChild(link);
      var date = document.createElement("span");
      date.textContent = result.issue.date;
      head.appendChild(date);
      item.appendChild(head);
      var snippets = document.createElement("ul");
      snippets.className = "snippets";
      result.hits.slice(0, MAX_SNIPPETS).forEach(function (text) {
        snippets.appendChild(snippet(text, words));
      });
      item.appendChild(snippets);
      list.appendChild(item);
    });
  }

  var query = new URLSearchParams(window.location.search).get("q") || "";
  document.getElementById("q").value = query;
  show(query.trim());
})();
