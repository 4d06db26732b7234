"""Report content of the demo portal: data model, real seed reports, synthetic generator, table grids."""
