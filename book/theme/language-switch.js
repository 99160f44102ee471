// A link to the same page in the book's other language, in the menu bar.
// The English book is the site's root and the Chinese one its zh-CN/
// directory (`python3 book/i18n.py site`, which `just book` serves), and
// both have the same pages, so the other language's page is one directory
// down or up. The anchor goes along: the Chinese headings also answer to
// the English ids.
(function () {
    "use strict";
    var buttons = document.querySelector(".right-buttons");
    if (!buttons) {
        return;
    }
    var chinese = document.documentElement.lang === "zh-CN";
    var path = window.location.pathname;
    var page = path.substring(path.lastIndexOf("/") + 1) || "index.html";
    var link = document.createElement("a");
    link.href = (chinese ? "../" : "zh-CN/") + page + window.location.hash;
    link.textContent = chinese ? "English" : "简体中文";
    link.title = chinese ? "Read this page in English" : "阅读本页的中文版";
    link.setAttribute("lang", chinese ? "en" : "zh-CN");
    link.className = "nslab-language";
    link.style.marginInlineStart = "1em";
    link.style.fontSize = "1.4rem";
    buttons.insertBefore(link, buttons.firstChild);
})();
