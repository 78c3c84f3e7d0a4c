"""nodeflow: a typed, testable node workflow engine. This package knows nothing of diffusion."""

from .builder import Graph, NodeRef, OutputRef
from .cache import OutputCache
from .context import Context, Interrupted
from .executor import Executor
from .report import NodeFailure, RunReport
from .folders import Folders, InFolder, UnsafePath
from .limits import Limits
from .models import ModelHandle
from .node import NodeDefinitionError, node
from .plan import plan, validate
from .problems import Problem, ProblemList
from .registry import DuplicateNodeType, Registry, default_registry
from .workflow import Link, Workflow

__all__ = [
    "Context", "DuplicateNodeType", "Executor", "Folders", "Graph", "InFolder", "Interrupted", "Limits", "Link", "ModelHandle",
    "NodeDefinitionError", "NodeFailure", "NodeRef", "OutputCache", "OutputRef", "Problem", "ProblemList",
    "Registry", "RunReport", "UnsafePath", "Workflow", "default_registry", "node", "plan", "validate",
]
