"""Report extraction: text, metadata, the three standard tables as cells, and the format's own checks.

Entry point: extract_document(body, url=None, content_type=None, filename=None) -> Extraction (never raises).
"""

from .document import extract_document
from .model import Cell, Check, Extraction

__all__ = ["Cell", "Check", "Extraction", "extract_document"]
