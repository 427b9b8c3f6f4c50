"""Reading one catalogue file as YAML, safely and without losing anything in silence.

The files are written by hand by people who have never used YAML, and they may also be hostile. So:

- a file larger than `MAX_BYTES` is not parsed at all;
- the event stream is read first (libyaml when present): anchors and aliases (`&x`, `*x`), explicit
  tags (`!!python/…`) and complex keys (`? [a, b]`) are refused with their line, *before* anything is
  built, so that an alias bomb never expands and an unhashable key never reaches Python;
- every scalar stays text (`2015`, `no`, `2024-05-01` mean what the schema says, not what YAML 1.1
  guesses);
- a key written twice is reported; so is a ` #` after an unquoted value, which YAML reads as a
  comment and drops;
- a syntax error comes back in French, with the line, the column and a hint chosen from the text of
  the line itself (a leading `@`, `[` or `"`, a `: ` inside a text, a tab, an apostrophe…).

Nothing here raises: `read_yaml` returns the data and a list of (line, message).
"""

from __future__ import annotations

import re

import yaml

#: What an anchor (&), an alias (*), a tag (!), a complex key (? [ {) or a comment (#) starts with.
_SIGNS = re.compile(r"[&*!?#\[{]")
#: A catalogue entry is a few kilobytes; a file above this is refused unread.
MAX_BYTES = 100_000
#: Events of one file (a node is one or two events): far above any real entry.
MAX_EVENTS = 20_000

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TextLoader(_Loader):
    """Safe loader that keeps every scalar as text and notes keys written twice."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []


_TextLoader.yaml_implicit_resolvers = {}


def note_duplicate_keys(loader, node: yaml.MappingNode) -> dict:
    """Build a mapping, noting on the loader (`loader.duplicates`) every key written twice (YAML
    would keep the last one in silence). Also used by the training files' loader."""
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            loader.duplicates.append((str(key), key_node.start_mark.line + 1))
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_TextLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, note_duplicate_keys)


class _Pure(yaml.SafeLoader):
    """The pure-Python parser: the same messages on every machine, for syntax errors only."""


_Pure.yaml_implicit_resolvers = {}


# --- syntax errors, in French, with a hint taken from the line itself ---------------------------

_PROBLEMS = [
    ("mapping values are not allowed", "un « : » inattendu"),
    ("cannot start any token", "un caractère qui ne peut pas commencer une valeur"),
    ("found unexpected end of stream", "la fin du fichier arrive avant la fin d'une valeur"),
    ("found unknown escape character", "une barre oblique inverse « \\ » inconnue entre guillemets"),
    ("could not find expected ':'", "il manque le « : » d'une ligne « nom: valeur »"),
    ("expected <block end>", "la ligne ne suit pas la structure attendue"),
    ("did not find expected key", "la ligne ne suit pas la structure attendue"),
    ("did not find expected '-' indicator", "la ligne ne suit pas la structure attendue"),
    ("expected ',' or", "une liste ou un groupe entre crochets ou accolades n'est pas refermé"),
    ("found a tab character", "une tabulation"),
    ("expected a single document", "le fichier contient plusieurs documents (une ligne « --- » au milieu)"),
]

QUOTING = "voir « Guillemets et textes longs » dans le guide"


def _value_of(line: str) -> str:
    """The value written on a `name: value` (or `- value`) line."""
    head, sep, rest = line.partition(": ")
    if sep and not head.lstrip().startswith(("'", '"')):
        return rest.strip()
    return line.strip().lstrip("- ").strip()


def _hint(lines: list[str], line: int | None, what: str) -> str:
    text = lines[line] if line is not None and 0 <= line < len(lines) else ""
    value = _value_of(text)
    if "single document" in what:
        return "une fiche par fichier : retirez la ligne « --- » et ce qui la suit, ou faites-en une autre fiche"
    if "\t" in text:
        return "une tabulation s'est glissée dans la ligne : indentez avec des espaces seulement"
    if value[:1] in ("@", "`"):
        return (f"un texte ne peut pas commencer par « {value[0]} » sans guillemets : mettez toute la "
                f"valeur entre guillemets, par exemple \"{value}\" ({QUOTING})")
    if value[:1] in ("[", "{") and "end of stream" not in what and "expected ','" not in what:
        return (f"une valeur qui commence par « {value[0]} » est lue comme une liste : si c'est un texte, "
                f"mettez toute la valeur entre guillemets ({QUOTING})")
    if value[:1] in ("[", "{"):
        return f"le « {value[0]} » ouvert n'est jamais refermé : fermez-le, ou mettez la valeur entre guillemets"
    if "unknown escape" in what:
        return ("entre guillemets doubles, « \\ » annonce un caractère spécial : mettez plutôt le texte "
                f"entre apostrophes droites ' ' ({QUOTING})")
    if "end of stream" in what:
        return "un guillemet ouvert n'est jamais refermé : fermez-le à la fin de la valeur"
    if value[:1] == "'":
        return ("la valeur commence par une apostrophe : YAML lit un texte entre apostrophes, qui s'arrête à "
                "l'apostrophe suivante ; doublez chaque apostrophe à l'intérieur ('l''IRIS') ou mettez "
                f"le texte entre guillemets doubles ({QUOTING})")
    if value[:1] == '"':
        return ("la valeur commence par un guillemet : YAML lit un texte entre guillemets, qui doit finir la "
                f"valeur ; mettez toute la valeur entre apostrophes droites ' ' ({QUOTING})")
    if "mapping values" in what or ": " in value:
        return (f"le texte contient « : » suivi d'une espace : mettez toute la valeur entre guillemets "
                f"({QUOTING})")
    return ("vérifiez l'indentation : les champs d'un même niveau commencent dans la même colonne, "
            "les éléments d'une liste aussi")


def _syntax_message(err: yaml.MarkedYAMLError, lines: list[str]) -> tuple[int | None, str]:
    what = " ".join(filter(None, [err.problem, err.context]))
    # An unclosed quote or bracket: point at where it opened, not at the end of the file.
    mark = err.context_mark if ("end of stream" in what or "expected ','" in what) and err.context_mark \
        else (err.problem_mark or err.context_mark)
    described = next((fr for en, fr in _PROBLEMS if en in what), "la structure du fichier n'est pas lisible")
    line = mark.line if mark else None
    where = f"ligne {mark.line + 1}, colonne {mark.column + 1} : " if mark else ""
    return (line + 1 if line is not None else None,
            f"{where}erreur de syntaxe YAML : {described} (conseil : {_hint(lines, line, what)})")


# --- the event pass ---------------------------------------------------------------------------

class _Refused(Exception):
    """Something the catalogue never builds: an alias, a tag, a complex key, too many nodes."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def _scan(text: str, lines: list[str]) -> list[tuple[int | None, str]]:
    """Refuse what must never be built (raises _Refused); return the comments that cut a value.

    Syntax errors raise yaml.MarkedYAMLError.
    """
    problems: list[tuple[int | None, str]] = []
    stack: list[list] = []  # [kind, expecting_key, path, current key]
    count = 0
    for event in yaml.parse(text, Loader=_Loader):
        count += 1
        if count > MAX_EVENTS:
            raise _Refused(None, f"le fichier contient trop d'éléments (plus de {MAX_EVENTS}) pour une fiche")
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused(line, f"ligne {line} : les ancres et alias YAML (« & » et « * ») ne sont pas acceptés "
                                 "dans une fiche : écrivez la valeur en entier (si c'est un texte qui commence par "
                                 "« & » ou « * », mettez-le entre guillemets)")
        if isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            explicit = event.tag is not None and not (isinstance(event, yaml.ScalarEvent) and event.implicit[0]) \
                and not (isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)) and event.implicit)
            if explicit:
                tag = event.tag.replace("tag:yaml.org,2002:", "!!")
                raise _Refused(line, f"ligne {line} : les étiquettes YAML (« {tag} ») ne sont pas acceptées "
                                     "dans une fiche (si c'est un texte qui commence par « ! », mettez-le entre "
                                     "guillemets)")
            parent = stack[-1] if stack else None
            if parent is not None and parent[0] == "map":
                if parent[1]:  # a key
                    if not isinstance(event, yaml.ScalarEvent):
                        raise _Refused(line, f"ligne {line} : un nom de champ doit être un simple mot, pas une "
                                             "liste ni un groupe (« ? » ou « [ … ]: » ne sont pas acceptés)")
                    parent[3] = event.value
                    parent[1] = False
                    continue
                parent[1] = True
            if isinstance(event, yaml.ScalarEvent) and not event.style and event.value:  # plain ("" in libyaml)
                rest = lines[event.end_mark.line][event.end_mark.column:] if event.end_mark.line < len(lines) else ""
                if re.match(r"\s+#", rest):
                    path = _path(stack)
                    problems.append((event.end_mark.line + 1,
                                     f"ligne {event.end_mark.line + 1} : champ « {path} » : le texte après « # » "
                                     f"(« {rest.strip()[:40]} ») est lu comme un commentaire et n'est pas gardé ; "
                                     "mettez toute la valeur entre guillemets, ou placez le commentaire sur sa "
                                     "propre ligne"))
        if isinstance(event, yaml.MappingStartEvent):
            stack.append(["map", True, None, None])
        elif isinstance(event, yaml.SequenceStartEvent):
            stack.append(["seq", False, None, -1])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            stack.pop()
    return problems


def _path(stack) -> str:
    parts = []
    for kind, _, _, key in stack:
        if kind == "map" and key is not None:
            parts.append(str(key))
    return ".".join(parts) or "?"


def _pure_syntax_message(text: str, lines: list[str]) -> tuple[int | None, str]:
    """The syntax error as the pure-Python parser words it: the same message on every machine."""
    loader = _Pure(text)
    try:
        loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        return _syntax_message(err, lines)
    except Exception:  # noqa: BLE001 - any failure of the parser is a message, never a traceback
        pass
    finally:
        loader.dispose()
    return None, "erreur de syntaxe YAML : la structure du fichier n'est pas lisible"


def read_yaml(text: str) -> tuple[object, list[tuple[int | None, str]]]:
    """Parse YAML text. Returns (data, [(line, message)]); data is None when the file cannot be read."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        return None, [(None, f"le fichier dépasse {MAX_BYTES // 1000} Ko : une fiche tient en quelques Ko "
                             "(vérifiez qu'il s'agit bien d'une fiche du catalogue)")]
    lines = text.splitlines()
    try:
        # Without any of these signs there is no anchor, alias, tag, complex key nor comment to find:
        # most entries skip the event pass (it costs as much as the parse itself).
        comments = _scan(text, lines) if _SIGNS.search(text) else []
    except _Refused as refused:
        return None, [(refused.line, refused.message)]
    except yaml.YAMLError:
        return None, [_pure_syntax_message(text, lines)]
    loader = _TextLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError:
        return None, [_pure_syntax_message(text, lines)]
    finally:
        loader.dispose()
    duplicates = [(line, f"ligne {line} : le champ « {key} » est écrit deux fois (n'en gardez qu'un)")
                  for key, line in loader.duplicates]
    return data, duplicates + comments
