"""Code partagé du livre Data & Quartiers.

Les labs importent ce paquet ; il doit rester utilisable dans le livre, sur un ordinateur
après téléchargement et dans le navigateur (Pyodide) : pas de réseau, pas de thread,
pas de lecture qui exige GDAL.
"""

from pathlib import Path

__version__ = "0.1.0"

#: Dossier du paquet (les fichiers front-end vendus y sont copiés par `make setup`).
PACKAGE_DIR = Path(__file__).resolve().parent
