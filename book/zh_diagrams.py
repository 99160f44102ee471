"""mdbook preprocessor: the Chinese book's diagrams.

mdbook-xgettext puts a ```text block into the catalogue only when it holds
a `"` or a `//` (its guess at what has strings or comments to translate),
so the book's diagrams (timelines, boxes, layouts) never reach
po/zh-CN.po, and the Chinese book would show them in English. Their
translations live beside the catalogue, in po/zh-CN.diagrams.json, as
pairs of the English block and its Chinese, both without the fences; when
the book's language is zh-CN this replaces each English block with its
Chinese. `python3 book/i18n.py check` fails when the English of a listed
diagram has changed and its Chinese is left behind.

mdbook runs it from the book's directory: `python3 zh_diagrams.py`.
"""

import json
import sys
from pathlib import Path

TABLE = Path(__file__).resolve().parent / "po" / "zh-CN.diagrams.json"
LANGUAGE = "zh-CN"


def fenced(block):
    return "```text\n" + block + "\n```"


def load():
    return json.loads(TABLE.read_text(encoding="utf-8"))


def translate(items, table):
    for item in items:
        chapter = item.get("Chapter") if isinstance(item, dict) else None
        if not chapter:
            continue
        for pair in table:
            chapter["content"] = chapter["content"].replace(
                fenced(pair["english"]), fenced(pair["chinese"])
            )
        translate(chapter.get("sub_items", []), table)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "supports":
        return 0
    context, book = json.load(sys.stdin)
    if context["config"]["book"].get("language") == LANGUAGE:
        # mdbook 0.5 names the list `items`, 0.4 `sections`.
        translate(book.get("items", book.get("sections", [])), load())
    json.dump(book, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
