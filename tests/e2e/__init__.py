"""End-to-end tests: the panel driven in headless Chromium.

A package, so that this folder's conftest does not shadow tests/conftest.py
(the other test modules import helpers with `from conftest import ...`).
"""
