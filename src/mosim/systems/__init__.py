"""Robot systems: name one by id and drive it. See :func:`make_system`."""

from __future__ import annotations

from dataclasses import replace

from mosim.errors import InvalidInputError, MosimError
from mosim.systems.actuation import Actuation
from mosim.systems.base import System, SystemSpec
from mosim.systems.contacts import FloorContacts
from mosim.systems.dmc import DMCSystem, dmc_task_ids, is_dmc_id
from mosim.systems.geometry import ContactGeometry
from mosim.systems.inertia import BodyInertias
from mosim.systems.layout import JointLayout
from mosim.systems.limits import LimitConstraints
from mosim.systems.self_contacts import SelfContacts
from mosim.systems.mjcf import MENAGERIE_ROBOTS, MJCFSystem, load_menagerie, load_mjcf
from mosim.systems.perturbation import Perturbation, nominal_id, split_id
from mosim.registry import unknown_name


def make_system(system_id: str, substeps: int | None = None) -> System:
    """Make a system by id.

    - ``domain-task``: any DeepMind Control Suite task (``cheetah-run``, ``reacher-easy``, ...);
      ``substeps`` defaults to the task's control step.
    - ``panda``, ``go2``: MuJoCo Menagerie robots; ``substeps`` defaults to 1 (0.002 s).
    - ``mjcf:PATH``: any MJCF file; ``substeps`` defaults to 1.
    - any of these with ``@changes`` (``cheetah-run@mass:torso=1.3,friction=0.6``): a world that differs from its
      model file (:mod:`mosim.systems.perturbation`).
    """
    base, perturbation = split_id(system_id)
    if perturbation is not None:
        system = make_system(base, substeps=substeps)
        perturbation.apply(system.model, system.data)
        system.system_id = system_id
        return system
    if system_id in MENAGERIE_ROBOTS:
        return load_menagerie(system_id, substeps=1 if substeps is None else substeps)
    if system_id.startswith("mjcf:"):
        return load_mjcf(system_id[len("mjcf:") :], substeps=1 if substeps is None else substeps)
    if is_dmc_id(system_id):
        return DMCSystem(system_id, substeps=substeps)
    raise unknown_name(system_id, "system", list_systems() + ["mjcf:PATH"])


def with_mechanics(spec: SystemSpec, geometry: bool = False, actuation: bool = False,
                   limits: bool = False, contacts: bool = False, inertias: bool = False,
                   self_contacts: bool = False) -> SystemSpec:
    """``spec`` with the parts of the robot's MuJoCo model asked for that it lacks (a dataset's spec keeps
    none): its :class:`ContactGeometry`, its :class:`Actuation`, its :class:`LimitConstraints`, its
    :class:`FloorContacts`, its :class:`SelfContacts` and its :class:`BodyInertias` (which come with the geometry
    they belong to),
    read from the system made again from its id (once, whatever is asked): from its model file, so for a perturbed
    world's id (``cheetah-run@friction=0.6``) from the nominal one (:mod:`mosim.systems.perturbation`)."""
    wants = (("geometry", geometry or contacts or inertias or self_contacts), ("actuation", actuation),
             ("limits", limits), ("contacts", contacts), ("self_contacts", self_contacts), ("inertias", inertias))
    missing = {name for name, wanted in wants if wanted and getattr(spec, name) is None}
    if not missing:
        return spec
    try:
        system = make_system(nominal_id(spec.system_id), substeps=spec.substeps)
    except MosimError as e:
        raise InvalidInputError(f"cannot read the {' and '.join(sorted(missing))} of {spec.system_id!r}: {e}") from None
    problems = spec.mismatches(replace(system.spec(), system_id=spec.system_id))
    if problems:
        raise InvalidInputError(f"the system {spec.system_id!r} made here differs from the spec's: {problems}")
    parts = {name: getattr(system, name) for name in missing if name not in ("contacts", "self_contacts")}
    if "contacts" in missing:  # for the pairs of the spec's own geometry, where it has one
        parts["contacts"] = FloorContacts.from_model(system.model, spec.geometry or parts["geometry"])
    if "self_contacts" in missing:
        parts["self_contacts"] = SelfContacts.from_model(system.model, spec.geometry or parts["geometry"])
    return replace(spec, **parts)


def with_geometry(spec: SystemSpec) -> SystemSpec:
    """``spec`` with its :class:`ContactGeometry` (see :func:`with_mechanics`)."""
    return with_mechanics(spec, geometry=True)


def with_actuation(spec: SystemSpec) -> SystemSpec:
    """``spec`` with its :class:`Actuation` (see :func:`with_mechanics`)."""
    return with_mechanics(spec, actuation=True)


def list_systems() -> list[str]:
    """All built-in system ids."""
    return sorted(MENAGERIE_ROBOTS) + dmc_task_ids()


__all__ = ["Actuation", "BodyInertias", "ContactGeometry", "DMCSystem", "FloorContacts", "JointLayout", "LimitConstraints", "MJCFSystem", "Perturbation", "SelfContacts", "System", "SystemSpec",
           "list_systems", "make_system", "nominal_id", "with_actuation", "with_geometry", "with_mechanics"]
