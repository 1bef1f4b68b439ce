"""Every public name has a page in the API reference."""

from pathlib import Path

import onestep_sklearn
import onestep_sklearn.plotting as plotting

API = (Path(__file__).resolve().parents[1] / "doc" / "api.rst").read_text()


def test_every_public_name_is_in_the_api_reference():
    listed = {line.strip() for line in API.splitlines()}
    public = set(onestep_sklearn.__all__) | (set(plotting.__all__) - {"OKABE_ITO"})
    missing = sorted(public - listed)
    assert not missing, f"public names without an API page: {missing}"
