"""Files for coordinators: XLSX and CSV tables, the consolidated report (.docx), a chart (.png)."""
