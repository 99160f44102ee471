#!/usr/bin/env python3
"""The book in two languages: English, and 简体中文 kept in step by gettext.

    python3 book/i18n.py update        extract the English text (mdbook-xgettext),
                                       merge it into po/zh-CN.po (msgmerge), copy
                                       code blocks unchanged (code stays English)
    python3 book/i18n.py check         fail if any entry is untranslated or fuzzy,
                                       or a diagram of po/zh-CN.diagrams.json
                                       (zh_diagrams.py) no longer matches the English
    python3 book/i18n.py export DIR    the untranslated and fuzzy entries as JSON,
                                       one file per chapter, for translators
    python3 book/i18n.py import FILE.. their translations back into zh-CN.po
    python3 book/i18n.py site DIR      both books in one site: English at DIR/,
                                       Chinese at DIR/zh-CN/, each page with a
                                       link to the other language

Only the standard library, mdbook with mdbook-i18n-helpers' two programs, and
GNU gettext's msgmerge. `just po` runs `update`; `just book-check` runs `site`
(which checks both books' links) and `check`. A changed English paragraph
becomes "fuzzy" in zh-CN.po until its translation is updated, and `check`
fails until then: the Chinese book cannot silently fall behind.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# The diagrams the catalogue never sees, and how they are fenced (no
# __pycache__ left in book/).
sys.dont_write_bytecode = True
import zh_diagrams  # noqa: E402

BOOK = Path(__file__).resolve().parent
PO = BOOK / "po" / "zh-CN.po"
LANGUAGE = "zh-CN"
# book.toml's title is not a paragraph of the book: the catalogue never sees it.
TITLE = "nslab：一次一个命名空间，写出你自己的容器运行时"


def _unescape(text):
    body = text[1:-1]
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            out.append({"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}.get(n, "\\" + n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def quote(value):
    """`value` as PO lines: one string per line of text, as msgmerge writes."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t")
    pieces = escaped.split("\n")
    lines = [p + "\\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
    if len(lines) <= 1 and "\n" not in value:
        return ['"%s"' % escaped]
    return ['""'] + ['"%s"' % line for line in lines]


class Entry:
    def __init__(self):
        self.comments = []  # every line starting with '#', but flags
        self.flags = []
        self.msgid = None
        self.msgstr = None
        self.obsolete = False

    @property
    def fuzzy(self):
        return "fuzzy" in self.flags

    def lines(self):
        out = list(self.comments)
        if self.flags:
            out.append("#, " + ", ".join(self.flags))
        for key, value in (("msgid", self.msgid), ("msgstr", self.msgstr)):
            quoted = quote(value)
            out.append("%s %s" % (key, quoted[0]))
            out.extend(quoted[1:])
        return out


def read(path):
    entries, entry, field = [], Entry(), None
    for raw in Path(path).read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.rstrip("\n")
        if not line.strip():
            if entry.msgid is not None or entry.comments:
                entries.append(entry)
            entry, field = Entry(), None
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            entry.comments.append(line)
            continue
        if line.startswith("#,"):
            entry.flags += [f.strip() for f in line[2:].split(",") if f.strip()]
            continue
        if line.startswith("#"):
            entry.comments.append(line)
            continue
        match = re.match(r'^(msgid|msgstr|msgctxt)\s+(".*")$', line)
        if match:
            field = match.group(1)
            setattr(entry, field, _unescape(match.group(2)))
            continue
        if line.startswith('"') and field:
            setattr(entry, field, getattr(entry, field) + _unescape(line))
    return entries


def write(path, entries):
    text = "\n\n".join("\n".join(e.lines()) if not e.obsolete else "\n".join(e.comments) for e in entries)
    Path(path).write_text(text + "\n", encoding="utf-8")


def is_code(msgid):
    """Code, which stays as it is: a fenced block, what mdbook-xgettext
    takes out of one (a string literal, a comment: comments inside code
    stay English), or a message with no word to translate."""
    if msgid.startswith(("```", "~~~")):
        return True
    if re.fullmatch(r'"[^"\n]*"', msgid) or re.fullmatch(r"'[^'\n]*'", msgid):
        return True
    if re.match(r"\s*(//|/\*|#[ !#]|#$)", msgid):
        return True
    without = re.sub(r"`[^`]*`", "", msgid)
    return not re.search(r"[A-Za-z]{2,}", without)


def has_chinese(text):
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def stale_diagrams():
    """The translated diagrams whose English block is no longer in the book."""
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (BOOK / "src").glob("*.md"))
    return [p for p in zh_diagrams.load() if zh_diagrams.fenced(p["english"]) not in sources]


def update():
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ, MDBOOK_OUTPUT='{"xgettext": {}}')
        subprocess.run(["mdbook", "build", "-d", scratch, str(BOOK)], check=True, env=env)
        pot = Path(scratch) / "messages.pot"
        if PO.exists():
            subprocess.run(
                ["msgmerge", "--quiet", "--update", "--backup=off", "--no-wrap", str(PO), str(pot)],
                check=True,
            )
        else:
            entries = read(pot)
            header = entries[0]
            header.msgstr = header.msgstr.replace("Language: en", "Language: " + LANGUAGE)
            write(PO, entries)
    entries = read(PO)
    copied = 0
    for e in entries[1:]:
        if e.obsolete:
            continue
        # A code block someone translated (a note in Chinese) stays fuzzy
        # for them when its English changes; any other is copied again.
        if is_code(e.msgid) and (not e.msgstr or (e.fuzzy and not has_chinese(e.msgstr))):
            e.msgstr = e.msgid
            e.flags = [f for f in e.flags if f != "fuzzy"]
            copied += 1
    # Obsolete entries (#~) are history msgmerge keeps; the book does not need them.
    entries = [e for e in entries if not e.obsolete]
    write(PO, entries)
    print("po: %s updated (%d code blocks copied as they are)" % (PO.relative_to(BOOK.parent), copied))
    return report(entries)


def report(entries):
    live = [e for e in entries[1:] if not e.obsolete]
    untranslated = [e for e in live if not e.msgstr]
    fuzzy = [e for e in live if e.msgstr and e.fuzzy]
    print("po: %d messages, %d untranslated, %d fuzzy" % (len(live), len(untranslated), len(fuzzy)))
    return untranslated, fuzzy


def where(entry):
    refs = [c[3:].split() for c in entry.comments if c.startswith("#: ")]
    return refs[0][0] if refs and refs[0] else "?"


def check():
    untranslated, fuzzy = report(read(PO))
    for kind, bad in (("untranslated", untranslated), ("fuzzy", fuzzy)):
        for e in bad[:20]:
            print("  %s at %s: %s" % (kind, where(e), e.msgid[:70].replace("\n", " ")))
    stale = stale_diagrams()
    for pair in stale:
        print("  diagram no longer in the English book: %s" % pair["english"][:70].replace("\n", " "))
    if stale:
        print(
            "po: %d diagram(s) of %s changed in English. Put the new English block (without "
            "its fences) and its new Chinese in that file." % (len(stale), zh_diagrams.TABLE.relative_to(BOOK.parent))
        )
    if untranslated or fuzzy:
        print(
            "po: the Chinese book is behind the English one. Run `just po`, translate the "
            "entries above in book/po/zh-CN.po (a PO editor, or `python3 book/i18n.py export DIR`), "
            "remove their fuzzy flags, and run `just book-check` again."
        )
    return 1 if untranslated or fuzzy or stale else 0


def export(directory):
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    by_file = {}
    for index, e in enumerate(read(PO)):
        if index == 0 or e.obsolete or (e.msgstr and not e.fuzzy):
            continue
        source = where(e).split(":")[0].replace("src/", "")
        item = {"id": index, "english": e.msgid}
        if e.fuzzy:
            item["old_translation"] = e.msgstr
        by_file.setdefault(source, []).append(item)
    for source, items in sorted(by_file.items()):
        name = out / (source.replace("/", "_") + ".json")
        name.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
        print("%s: %d messages" % (name, len(items)))


def import_(files):
    entries = read(PO)
    # By the English text, which is unique in a PO file: the entries'
    # order changes whenever the English book does.
    by_msgid = {e.msgid: e for e in entries[1:] if not e.obsolete}
    done = 0
    for path in files:
        for item in json.loads(Path(path).read_text(encoding="utf-8")):
            e = by_msgid.get(item["english"])
            if e is None:
                print("%s: %r is no longer in the English book: skipped" % (path, item["english"][:60]))
                continue
            if item.get("chinese"):
                e.msgstr = item["chinese"]
                e.flags = [f for f in e.flags if f != "fuzzy"]
                done += 1
    write(PO, entries)
    print("po: %d translations imported" % done)
    report(entries)


HEADING = re.compile(r'<h([1-6]) id="([^"]*)"')


def site(directory):
    """Both books in one directory, the Chinese one's headings also
    answering to the English ids (so that every link with an English
    anchor, the checker's "read:" links included, lands where it should)."""
    out = Path(directory).resolve()
    builds = out.parent / (out.name + "-builds")
    shutil.rmtree(out, ignore_errors=True)
    for language, target in (("en", out), (LANGUAGE, out / LANGUAGE)):
        build = builds / language
        env = dict(os.environ, MDBOOK_BOOK__LANGUAGE=language)
        if language == LANGUAGE:
            env["MDBOOK_BOOK__TITLE"] = TITLE
        subprocess.run(["mdbook", "build", "-d", str(build), str(BOOK)], check=True, env=env)
        # With two outputs (html and linkcheck2) the HTML is in html/.
        html = build / "html" if (build / "html").is_dir() else build
        shutil.copytree(html, target)
    shutil.rmtree(builds, ignore_errors=True)
    aligned = 0
    for page in sorted((out / LANGUAGE).glob("*.html")):
        english = out / page.name
        if not english.exists():
            continue
        ids = [m.group(2) for m in HEADING.finditer(english.read_text(encoding="utf-8"))]
        text = page.read_text(encoding="utf-8")
        headings = list(HEADING.finditer(text))
        if len(headings) != len(ids):
            print("site: %s has %d headings, its English page %d: anchors left as they are"
                  % (page.name, len(headings), len(ids)))
            continue
        for match, english_id in reversed(list(zip(headings, ids))):
            if match.group(2) != english_id:
                text = text[: match.end()] + '><span id="%s"></span' % english_id + text[match.end():]
                aligned += 1
        page.write_text(text, encoding="utf-8")
    print("site: %s (English) and %s (中文), %d Chinese headings also answer to their English ids"
          % (out, out / LANGUAGE, aligned))


if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["update"]:
        update()
    elif args == ["check"]:
        sys.exit(check())
    elif len(args) == 2 and args[0] == "export":
        export(args[1])
    elif len(args) >= 2 and args[0] == "import":
        import_(args[1:])
    elif len(args) == 2 and args[0] == "site":
        site(args[1])
    else:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
