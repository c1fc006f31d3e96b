

# ---------------------------------------------------------------------------------------------
# Real benchmark tables (../shared/data), each imported once per test session.
# Used by tests/test_datasets.py and tests/test_cli.py; they skip when the data is absent.
# ---------------------------------------------------------------------------------------------

import pytest as _dataset_pytest
from shared_data import DATA as SHARED_BENCHMARK_DATA
from shared_data import SKIP_REASON as SHARED_BENCHMARK_SKIP_REASON


@_dataset_pytest.fixture(scope="session")
def benchmark_data_dir():
    """``../shared/data`` (skips the test when it is absent)."""
    if not SHARED_BENCHMARK_DATA.is_dir():
        _dataset_pytest.skip(SHARED_BENCHMARK_SKIP_REASON)
    return SHARED_BENCHMARK_DATA


def _import_nb201_table(data_dir, name, prefix=""):
    from graphvae_nas.datasets import read_table
    from graphvae_nas.spaces import get_space

    return read_table(data_dir / "nasbench201" / name, get_space("nb201"), prefix=prefix)


@_dataset_pytest.fixture(scope="session")
def nb201_200ep_report(benchmark_data_dir):
    """ImportReport of nb201_cifar10_200ep.csv (no prefix)."""
    return _import_nb201_table(benchmark_data_dir, "nb201_cifar10_200ep.csv")


@_dataset_pytest.fixture(scope="session")
def nb201_12ep_report(benchmark_data_dir):
    """ImportReport of nb201_all_12ep.csv with prefix ``12ep_``."""
    return _import_nb201_table(benchmark_data_dir, "nb201_all_12ep.csv", prefix="12ep_")


@_dataset_pytest.fixture(scope="session")
def nb201_hw_report(benchmark_data_dir):
    """ImportReport of hw_cifar10.csv (NASLib ``net`` tuples) with prefix ``hw_``."""
    return _import_nb201_table(benchmark_data_dir, "hw_cifar10.csv", prefix="hw_")


@_dataset_pytest.fixture(scope="session")
def nb201_zc_report(benchmark_data_dir):
    """ImportReport of nb201_zc_proxies.csv (9,445 cells) with prefix ``zc_``."""
    return _import_nb201_table(benchmark_data_dir, "nb201_zc_proxies.csv", prefix="zc_")


@_dataset_pytest.fixture(scope="session")
def enas_report(benchmark_data_dir):
    """ImportReport of D-VAE's enas/final_structures6.txt."""
    from graphvae_nas.datasets import read_dvae_enas

    return read_dvae_enas(benchmark_data_dir / "enas" / "final_structures6.txt")


# ---------------------------------------------------------------------------------------------
# Every test runs with one intra-op CPU thread, the library's default (graphvae_nas.threads),
# set through its explicit scope and restored when the session ends.
# ---------------------------------------------------------------------------------------------
@_dataset_pytest.fixture(scope="session", autouse=True)
def _one_cpu_thread():
    from graphvae_nas.threads import cpu_threads

    with cpu_threads(1):
        yield
