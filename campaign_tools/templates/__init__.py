"""Message templates: authored in jinja2, built into Pinpoint Handlebars parts, linted, previewed and published."""
