package grpccall

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// A schema is what a distributed run's controller ships to its workers so
// that they build calls exactly as it resolved them, without asking the
// target or reading a .proto file: a serialized
// google.protobuf.FileDescriptorSet holding some files and every file they
// import, each before the files that import it.

// Schema serializes files and their imports, transitively, as a
// FileDescriptorSet. A path named twice is one file.
func Schema(files ...protoreflect.FileDescriptor) ([]byte, error) {
	set := &descriptorpb.FileDescriptorSet{}
	seen := map[string]protoreflect.FileDescriptor{}
	var add func(fd protoreflect.FileDescriptor) error
	add = func(fd protoreflect.FileDescriptor) error {
		if prev, ok := seen[fd.Path()]; ok {
			if prev != fd && !sameFile(prev, fd) {
				return fmt.Errorf("two different files named %s: a run's gRPC schema holds one file by each name", fd.Path())
			}
			return nil
		}
		seen[fd.Path()] = fd
		imports := fd.Imports()
		for i := range imports.Len() {
			imp := imports.Get(i).FileDescriptor
			if imp.IsPlaceholder() {
				return fmt.Errorf("%s imports %s, which is missing", fd.Path(), imp.Path())
			}
			if err := add(imp); err != nil {
				return err
			}
		}
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
		return nil
	}
	for _, fd := range files {
		if err := add(fd); err != nil {
			return nil, err
		}
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(set)
}

func sameFile(a, b protoreflect.FileDescriptor) bool {
	return proto.Equal(protodesc.ToFileDescriptorProto(a), protodesc.ToFileDescriptorProto(b))
}

// LoadSchema reads a schema Schema wrote: its files, linked. Every import
// must be in the schema.
func LoadSchema(b []byte) (*protoregistry.Files, error) {
	if len(b) == 0 {
		return nil, errors.New("gRPC schema: empty")
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(b, set); err != nil {
		return nil, fmt.Errorf("gRPC schema: not a FileDescriptorSet: %s", protoErrText(err))
	}
	if len(set.GetFile()) == 0 {
		return nil, errors.New("gRPC schema: no files")
	}
	reg, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, fmt.Errorf("gRPC schema: %s", protoErrText(err))
	}
	return reg, nil
}
