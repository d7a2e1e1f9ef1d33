"""The pieces of the one base view, a module per concern, composed in admin_views/base.py.

- access:   who may open the view and what they may do there (the matrix)
- rowscope: which rows a user may reach (lists, counts, get_one, pickers)
- fields:   which fields a role may see (lists, details, forms, filters, search)
- labels:   how the view names things (Russian labels, choice words, dates, filter names)
- listing:  the list page's query (bounded count, keyset «Далее», search)
- saving:   forms and saves (validators, stale copies, database refusals in Russian)
- archive:  archiving instead of deleting, and restoring
- related:  the details page's related tables, notices and work-page links
- export:   the list's Excel export
"""
