"""Workflow specs: the YAML format and Python API, validation, and the LogicalWorkflow DAG.

    from murakkab.spec import load_builtin, load_file, WorkflowBuilder, build_workflow
"""

from murakkab.spec.build import build_workflow
from murakkab.spec.load import builtin_names, load_builtin, load_file, load_workflow, parse_spec
from murakkab.spec.logical import Binding, Candidate, LogicalWorkflow, TaskNode
from murakkab.spec.model import Preferences, TaskSpec, WorkflowBuilder, WorkflowSpec
from murakkab.spec.yaml_io import SourceMap

__all__ = ["build_workflow", "builtin_names", "load_builtin", "load_file", "load_workflow", "parse_spec",
           "Binding", "Candidate", "LogicalWorkflow", "TaskNode", "Preferences", "TaskSpec", "WorkflowBuilder",
           "WorkflowSpec", "SourceMap"]
