"""Trajectory data: policies, collection, the dataset format and loading."""

from mosim.data.collect import CollectConfig, collect
from mosim.data.dataset import Dataset, load_dataset
from mosim.data.episode import Episode, run_episode
from mosim.data.format import DatasetMeta, read_dataset, write_dataset
from mosim.data.policies import CallablePolicy, Policy, RandomPolicy, ZeroPolicy, make_policy

__all__ = [
    "CallablePolicy",
    "CollectConfig",
    "Dataset",
    "DatasetMeta",
    "Episode",
    "Policy",
    "RandomPolicy",
    "ZeroPolicy",
    "collect",
    "load_dataset",
    "make_policy",
    "read_dataset",
    "run_episode",
    "write_dataset",
]
