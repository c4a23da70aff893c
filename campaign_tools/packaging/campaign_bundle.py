"""What a campaign function's zip carries besides the send child's code: the campaign file, rewritten so that it
reads everything from the zip, and every template it sends, pre-built.

- `campaign.toml` at the zip's root (`PINREC_CAMPAIGN=/var/task/campaign.toml`), the file as written (comments
  aside) except: each channel table's `template` NAME or `built` DIR (the campaign's and each treatment's) becomes
  `built = "templates/<template name>"`, and `config = "pinrec.toml"` (Lambda's working folder is /var/task, which
  the functions read these relative paths from);
- `templates/<name>/`: each template pre-built here with the full authoring pipeline (a `built` folder is copied as
  it is), so the functions compose with the renderer only;
- the configuration and its bundled catalog (`bundle.config_entries`).

The segment must be in S3: the functions read it there.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campaign_tools.channels import registry as channel_registry
from campaign_tools.packaging.reproducible_zip import PackageError, ZipEntry, tree_entries
from transformer.config import load_config
from transformer.files import is_s3_url

CAMPAIGN_ARCNAME = "campaign.toml"
TEMPLATES_ARCNAME = "templates"


@dataclass
class CampaignBundle:
    campaign: Path
    """The rewritten campaign.toml (in the staging folder)."""
    config: Path
    templates: dict[str, Path] = field(default_factory=dict)
    """Template name -> its built folder."""

    def entries(self) -> list[ZipEntry]:
        built = [
            entry
            for name, folder in sorted(self.templates.items())
            for entry in tree_entries(folder, prefix=f"{TEMPLATES_ARCNAME}/{name}/")
        ]
        return [ZipEntry(CAMPAIGN_ARCNAME, self.campaign), *built]


def _tables(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, table) of every channel table: the campaign's and each treatment's."""
    names = channel_registry.names()
    for name in names:
        if isinstance(data.get(name), dict):
            yield name, data[name]
    treatments = data.get("treatments")
    for index, treatment in enumerate(treatments if isinstance(treatments, list) else []):
        for name in names:
            if isinstance(treatment, dict) and isinstance(treatment.get(name), dict):
                yield f"treatments[{index}].{name}", treatment[name]


def _read(file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PackageError(f"cannot read {file}: {error}") from None


def bundle_campaign(
    file: Path,
    config_path: Path | None,
    templates_dir: str | None,
    staging: Path,
    say: Callable[[str], None] = lambda _: None,
) -> CampaignBundle:
    """Validate the campaign, pre-build its templates under `staging` and write its rewritten file there."""
    import tomli_w

    from campaign_tools.campaigns.definition import load_campaign, parse_campaign
    from campaign_tools.templates.build import build_template, write_build
    from campaign_tools.templates.manifest import load_template
    from campaign_tools.templates.prebuilt import load_prebuilt
    from transformer.config import config_path_from_environment

    definition = load_campaign(file)
    if not definition.segment or not is_s3_url(definition.segment):
        raise PackageError(
            f'{file}: segment must be in S3 (segment = "s3://BUCKET/KEY"): the deployed function reads it there'
        )
    data = _read(file)
    config = config_path or (Path(definition.config) if definition.config else config_path_from_environment())
    loaded = load_config(config)
    bundle = CampaignBundle(staging / CAMPAIGN_ARCNAME, config)
    sources: dict[str, str] = {}
    for where, table in _tables(data):
        if isinstance(table.get("template"), str):
            source = load_template(table["template"], templates_dir)
            built = build_template(source, loaded)
            name, origin = built.name, f"template {table['template']}"
            if name not in bundle.templates:
                write_build(built, staging / TEMPLATES_ARCNAME / name)
                bundle.templates[name] = staging / TEMPLATES_ARCNAME / name
                say(f"pre-built template {name} ({', '.join(source.manifest.channels)})")
        elif isinstance(table.get("built"), str):
            name, origin = load_prebuilt(Path(table["built"])).name, f"built {table['built']}"
            bundle.templates.setdefault(name, Path(table["built"]))
        else:
            continue
        if sources.setdefault(name, origin) != origin:
            raise PackageError(f"{file}: {where}: {origin} and {sources[name]} are both templates named {name}")
        table.pop("template", None)
        table["built"] = f"{TEMPLATES_ARCNAME}/{name}"
    data["config"] = "pinrec.toml"
    parse_campaign(data, f"{file} as packaged")
    bundle.campaign.write_text(tomli_w.dumps(data), encoding="utf-8")
    return bundle
