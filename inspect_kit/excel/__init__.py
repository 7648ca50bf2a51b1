"""Excel both ways (docs/architecture.md §3): safe streaming exports and the capture workbook.

- :mod:`.cells` turns database values into cells that cannot run as formulas;
- :mod:`.sheets` streams a table sheet and the "About this export" sheet;
- :mod:`.evidence` writes the review's evidence workbook;
- :mod:`.rows` writes any columns-and-rows result (the Datasette ``.xlsx``);
- :mod:`.capture` writes the offline capture workbook;
- :mod:`.safety` refuses files that are not plain .xlsx workbooks (password, bomb);
- :mod:`.importer` checks and imports a filled capture workbook.

No Flask, Datasette or click here: shells call these functions.
"""
