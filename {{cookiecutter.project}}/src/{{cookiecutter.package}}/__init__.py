"""{{ cookiecutter.project }}: train, gate and release the model."""

__version__ = "0.1.0"
