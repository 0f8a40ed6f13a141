"""Source connectors. A company may keep its own connectors in a separate folder: any
``connectors/`` directory on ``sys.path`` adds its packages here, so ``discover()`` finds them."""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
