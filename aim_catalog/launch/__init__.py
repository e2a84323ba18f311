"""Launch: running a selected config, and managing what runs.

Target-neutral parts: the options and the plan (``plan``), the run spec and server argv
(``runspec``, ``server_command``), labels (``labels``), GPU allocation (``allocation``), the
deployments table (``deployments``), the signal guard (``guard``) and the service behind
``launch``, ``ps``, ``stop`` and ``logs`` (``service``). Each place to run on is one
package under ``targets/``, registered by name (``targets.registry``); in aim_catalog only
the registry, the faces (which render a target's results) and ``doctor`` import one. It may
import ``selection``, ``recipes``, ``backends``, ``host``, ``storage``, ``settings``,
``notes``, ``httpcall`` (readiness probes) and ``errors``.
"""
