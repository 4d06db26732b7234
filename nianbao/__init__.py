"""nianbao: crawler and evidence-grade archive of Chinese government 年报."""

__version__ = "0.1.0"
