"""The domain core, at the bottom of the layers: the table templates and their keys (`templates`), report-title
recognition (`recognise`), page metadata (`pagemeta`), bytes-to-text decoding (`decode`, the one decoder) and
the normalisation change detection compares (`normalise`). It imports nothing else of the project."""
