"""Small reusable widgets: number boxes, form helpers, preview plots."""
