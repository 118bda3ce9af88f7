"""check_checkpoint_file and the checkpoint loader on real torch.save
files, intact and damaged in each way the module docstring lists."""
import pickle
import zipfile

import pytest
import torch

from mmfusion.engine import load_from_local
from mmfusion.utils import (CheckpointFileError, check_checkpoint_file,
                            file_problem, is_complete_checkpoint)


def _training_checkpoint() -> dict:
    return dict(
        meta=dict(epoch=1, iter=4),
        state_dict=dict(w=torch.arange(50000, dtype=torch.float32)),
        message_hub=dict(log_scalars={}, runtime_info={}))


@pytest.fixture
def ckpt(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    torch.save(_training_checkpoint(), path)
    return path


def _record_offset(path, suffix: str) -> int:
    """Offset of the data of the zip record whose name ends with
    ``suffix`` (after its local header, whose name and extra field lengths
    are at bytes 26-29)."""
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist()
                    if i.filename.endswith(suffix))
    with open(path, 'rb') as f:
        f.seek(info.header_offset + 26)
        lengths = f.read(4)
    return (info.header_offset + 30 + int.from_bytes(lengths[:2], 'little') +
            int.from_bytes(lengths[2:], 'little'))


def _problem(path, resume=False) -> str:
    with pytest.raises(CheckpointFileError) as info:
        check_checkpoint_file(str(path), resume=resume)
    assert str(info.value).startswith(f'{path}: ')
    assert '\n' not in str(info.value)
    return info.value.problem


def test_intact_checkpoints_pass(ckpt, tmp_path):
    check_checkpoint_file(str(ckpt), resume=True)
    assert is_complete_checkpoint(str(ckpt))
    legacy = tmp_path / 'legacy.pth'
    torch.save(
        _training_checkpoint(), legacy, _use_new_zipfile_serialization=False)
    check_checkpoint_file(str(legacy), resume=True)
    assert not is_complete_checkpoint(str(legacy))
    # URLs and other schemes are left to their loaders
    check_checkpoint_file('https://example.com/missing.pth')


def test_damaged_checkpoints_name_the_problem(ckpt, tmp_path):
    data = ckpt.read_bytes()
    assert _problem(tmp_path / 'none.pth') == 'checkpoint file does not exist'
    assert _problem(tmp_path) == 'is a folder, not a checkpoint file'
    (tmp_path / 'empty.pth').write_bytes(b'')
    assert _problem(tmp_path /
                    'empty.pth') == 'checkpoint file is empty (0 bytes)'
    (tmp_path / 'text.pth').write_text('not a checkpoint at all\n')
    assert _problem(tmp_path / 'text.pth') == (
        'not a checkpoint (neither a torch zip archive nor a pickle)')
    (tmp_path / 'cut.pth').write_bytes(data[:len(data) // 2])
    assert _problem(tmp_path / 'cut.pth').startswith(
        'truncated or corrupt zip archive (File is not a zip file; ')
    # zeroed tensor bytes: torch.load reads them silently
    zeroed = bytearray(data)
    offset = _record_offset(ckpt, '/data/0') + 1000
    zeroed[offset:offset + 64] = bytes(64)
    (tmp_path / 'zeroed.pth').write_bytes(bytes(zeroed))
    loaded = torch.load(tmp_path / 'zeroed.pth', weights_only=False)
    assert not torch.equal(loaded['state_dict']['w'],
                           _training_checkpoint()['state_dict']['w'])
    assert _problem(tmp_path / 'zeroed.pth') == (
        'corrupt: CRC-32 mismatch in record epoch_1/data/0 (damaged data)')
    with zipfile.ZipFile(tmp_path / 'other.zip', 'w') as archive:
        archive.writestr('notes.txt', 'hello')
    assert _problem(tmp_path / 'other.zip') == (
        'not a torch checkpoint: zip archive without data.pkl')
    legacy = tmp_path / 'legacy.pth'
    torch.save(
        _training_checkpoint(), legacy, _use_new_zipfile_serialization=False)
    legacy.write_bytes(legacy.read_bytes()[:5000])
    assert _problem(legacy).startswith(
        'cannot unpickle the legacy (pickle) checkpoint: ')
    torch.save([1, 2], tmp_path / 'list.pth')
    assert _problem(
        tmp_path /
        'list.pth') == ('holds a list, not a checkpoint dict (or state dict)')
    (tmp_path / 'pickle.pth').write_bytes(pickle.dumps(dict(a=1))[:-1])
    assert _problem(tmp_path / 'pickle.pth').startswith(
        'cannot unpickle the legacy (pickle) checkpoint: ')


def test_resuming_needs_a_training_checkpoint(tmp_path):
    weights = tmp_path / 'weights.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(3))), weights)
    check_checkpoint_file(str(weights))
    assert _problem(
        weights, resume=True).startswith(
            'not a training checkpoint: no meta epoch / iteration')


def test_loader_refuses_damaged_files_naming_them(ckpt, tmp_path):
    assert torch.equal(
        load_from_local(str(ckpt))['state_dict']['w'],
        _training_checkpoint()['state_dict']['w'])
    zeroed = bytearray(ckpt.read_bytes())
    offset = _record_offset(ckpt, '/data/0') + 10
    zeroed[offset:offset + 8] = bytes(8)
    ckpt.write_bytes(bytes(zeroed))
    assert file_problem(str(ckpt)).startswith('corrupt: CRC-32 mismatch')
    with pytest.raises(CheckpointFileError, match=f'^{ckpt}: corrupt: CRC'):
        load_from_local(str(ckpt))
    (tmp_path / 'garbage.pth').write_bytes(b'\x80\x02garbage')
    with pytest.raises(
            CheckpointFileError,
            match='garbage.pth: cannot load: UnpicklingError'):
        load_from_local(str(tmp_path / 'garbage.pth'))
    with pytest.raises(FileNotFoundError):
        load_from_local(str(tmp_path / 'missing.pth'))
