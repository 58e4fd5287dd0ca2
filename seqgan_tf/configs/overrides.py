"""The one way scripts change a named experiment: dotted fields and design switches.

    config = get_experiment("quick", "zap_seq")
    config = override(config, {"train.epochs": 3, "data.data_dir": "data"}, {"classify": False})

A field is `section.name` of ExperimentConfig ("train.epochs", "inference.mask_threshold"); a
value of None keeps the config's. A switch turns a part of the design on or off together with
the settings that only act with it (SWITCHES), so that `--noattribute_state` does not leave a
weight behind that `ExperimentConfig.validate()` would refuse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from seqgan_tf.configs.experiment import EditModeConfig, ExperimentConfig

_EDIT_DEFAULTS = {f"edit.{f.name}": f.default for f in dataclasses.fields(EditModeConfig)}

# switch -> {value: the fields it sets}. A value missing from a switch's table sets nothing.
SWITCHES: dict[str, dict[bool, dict[str, Any]]] = {
    # The paper's generator: nothing of the edit mode applies.
    "edit": {False: {**_EDIT_DEFAULTS, "inference.mask_threshold": 0.0}},
    # Latent slots: what needs attribute slots goes with them.
    "attribute_state": {
        True: {"edit.attribute_state": True},
        False: {
            "edit.attribute_state": False,
            "edit.anchor": "previous",
            "edit.attribute_weight": 0.0,
            "edit.classify_weight": 0.0,
            "edit.g_classify_weight": None,
            "edit.read_previous": False,
            "edit.skip_turn_rate": 0.0,
        },
    },
    # Skipped turns teach the compound edits that read_previous asks for.
    "read_previous": {
        True: {"edit.read_previous": True},
        False: {"edit.read_previous": False, "edit.skip_turn_rate": 0.0},
    },
    "classify": {
        True: {"edit.classify_weight": 1.0},
        False: {"edit.classify_weight": 0.0, "edit.g_classify_weight": None},
    },
    # Turns that edit the model's own drawing of the turn before (scheduled sampling).
    "own_output": {False: {"edit.own_output_rate": 0.0}},
    # Every turn redraws the session's first image: turns that edit another image do not apply.
    "anchor_first": {
        True: {"edit.anchor": "first", "edit.skip_turn_rate": 0.0, "edit.own_output_rate": 0.0},
        False: {"edit.anchor": "previous"},
    },
}


def set_field(config: ExperimentConfig, field: str, value: Any) -> None:
    """Sets `section.name` of `config` in place.

    Raises:
      ValueError: naming an unknown section or setting.
    """
    section_name, _, name = field.partition(".")
    section = getattr(config, section_name, None)
    if not name or not dataclasses.is_dataclass(section):
        raise ValueError(
            f"unknown config field {field!r}; expected section.name, e.g. train.epochs"
        )
    if name not in {f.name for f in dataclasses.fields(section)}:
        raise ValueError(f"config section {section_name!r} has no setting {name!r}")
    setattr(section, name, value)


def override(
    config: ExperimentConfig,
    fields: Mapping[str, Any] | None = None,
    switches: Mapping[str, bool | None] | None = None,
) -> ExperimentConfig:
    """Applies `switches` (in order; None leaves the switch as configured), then `fields` (in
    order; None keeps the value), and validates. Fields come last, so that a field set
    explicitly (say `edit.generator`) is kept by a switch that resets its section.

    Args:
      config: the config to change (changed in place and returned).
      fields: dotted field -> value.
      switches: name in SWITCHES -> True / False / None.

    Returns:
      config, validated.

    Raises:
      ValueError: an unknown field or switch, or a combination `validate()` refuses.

    Example:
      >>> override(get_experiment("quick", "synth_zap_seq"), {"train.seed": 1},
      ...          {"read_previous": False})
    """
    for name, value in (switches or {}).items():
        if name not in SWITCHES:
            raise ValueError(f"unknown switch {name!r}; expected one of {sorted(SWITCHES)}")
        if value is not None:
            for field, setting in SWITCHES[name].get(bool(value), {}).items():
                set_field(config, field, setting)
    for field, value in (fields or {}).items():
        if value is not None:
            set_field(config, field, value)
    return config.validate()
