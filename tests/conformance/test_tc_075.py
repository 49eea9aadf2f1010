"""TC_075_1/2_CSMS Install a certificate on the Charge Point (OCTT 1.6 §3.24.1), TC_076_CSMS
Delete a specific certificate, TC_078_CSMS Invalid CentralSystemCertificate Security Event:
what the charge point holds is kept, named by its certificateHashData."""

from __future__ import annotations

import pytest
import trustme
from ocpp.v16 import call

from charging.certificates import certificate_hash_data
from charging.models import InstalledCertificate, SecurityEvent

from .harness import in_thread, ocpp_time

ROOT = trustme.CA().cert_pem.bytes().decode()  # <Configured root certificate>


async def _install(operator, cp, certificate_type: str, *, answer: str = "Accepted") -> None:
    result = await operator.command(
        cp,
        "InstallCertificate",
        {"certificateType": certificate_type, "certificate": ROOT},
        answer={"status": answer},
    )
    assert result == {"status": answer}


@pytest.mark.parametrize(
    "certificate_type",
    ["ManufacturerRootCertificate", "CentralSystemRootCertificate"],
    ids=["tc_075_1_manufacturer_root", "tc_075_2_central_system_root"],
)
def test_tc_075_install_a_certificate(play, operator, cp_id, certificate_type):
    hash_data = certificate_hash_data(ROOT)

    async def case(cp):
        await _install(operator, cp, certificate_type)  # steps 1-2
        listed = await operator.command(
            cp,
            "GetInstalledCertificateIds",
            {"certificateType": certificate_type},
            answer={"status": "Accepted", "certificateHashData": [hash_data]},
        )  # steps 3-4
        assert hash_data in listed["certificateHashData"]

    play(case)
    held = InstalledCertificate.objects.get(charge_point_id=cp_id)
    assert (held.certificate_type, held.hash_data(), held.certificate) == (
        certificate_type,
        hash_data,
        ROOT,
    )


def test_tc_076_delete_a_specific_certificate(play, operator, cp_id):
    hash_data = certificate_hash_data(ROOT)

    async def case(cp):
        await _install(operator, cp, "CentralSystemRootCertificate")  # before: Root 2 installed
        await operator.command(
            cp,
            "GetInstalledCertificateIds",
            {"certificateType": "CentralSystemRootCertificate"},
            answer={"status": "Accepted", "certificateHashData": [hash_data]},
        )  # steps 1-2
        held = await _held(cp_id)
        # Step 3: the hash data of the installed certificate, with the algorithm of step 2.
        deleted = await operator.command(
            cp, "DeleteCertificate", {"certificateHashData": held.hash_data()}
        )
        assert deleted == {"status": "Accepted"}  # step 4

    play(case)
    assert not InstalledCertificate.objects.filter(charge_point_id=cp_id).exists()


def test_tc_078_invalid_central_system_certificate_security_event(play, operator, cp_id):
    async def case(cp):
        await _install(operator, cp, "CentralSystemRootCertificate", answer="Rejected")  # 1-2
        await cp.send(
            call.SecurityEventNotification(
                type="InvalidCentralSystemCertificate", timestamp=ocpp_time(), tech_info="root"
            )
        )  # steps 3-4

    play(case)
    assert not InstalledCertificate.objects.filter(charge_point_id=cp_id).exists()
    assert (
        SecurityEvent.objects.get(charge_point_id=cp_id).type == "InvalidCentralSystemCertificate"
    )


async def _held(cp_id: str) -> InstalledCertificate:
    return await in_thread(InstalledCertificate.objects.get, charge_point_id=cp_id)
