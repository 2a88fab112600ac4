"""Small modal dialogs (confirm, note, resolve, report) that screens and widgets both open.

They import neither ``screens`` nor ``widgets``, so both can use them without an import cycle.
"""
