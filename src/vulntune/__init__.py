"""vulntune: fine-tune a small local language model on the findings security scanners produce."""

__version__ = "0.1.0"
