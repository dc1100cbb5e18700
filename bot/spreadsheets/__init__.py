"""Spreadsheets in and out besides the exports: units and contacts tables,
their templates, forms authored in Excel, and the reporters' own workbooks."""
