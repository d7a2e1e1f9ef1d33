import json
from test_russian_pages import *  # noqa
def test_dump(every_roles_pages):
    out = {}
    for role, pages in every_roles_pages.items():
        for url, page in pages.items():
            w = sorted(set(LATIN_WORD.findall(" ".join(page.words))) - NAMES)
            if w: out.setdefault(" ".join(w), []).append(f"{role} {url}")
            if page.forms_without_novalidate: out.setdefault("FORM", []).append(f"{role} {url} {page.forms_without_novalidate}")
    json.dump(out, open('/tmp/eng.json','w'), ensure_ascii=False, indent=1)
